"""Versioned schema migrations (Alembic), run programmatically by `serve` and the CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

_MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    """Build an Alembic config bound to an existing engine (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to `revision` (idempotent).

    "heads": feature areas add their revisions on their own branches off 0001, so the schema
    is the union of every head.
    """
    command.upgrade(alembic_config(engine), revision)
