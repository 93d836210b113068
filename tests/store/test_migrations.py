"""The migrations build exactly the schema the models declare, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from store.engine import make_engine
from store.migrate import upgrade


def test_upgrade_heads_matches_models_and_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        upgrade(engine)  # a second run is a no-op, as on every `serve` start
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diffs == [], f"models and migrations disagree: {diffs}"
        tables = set(inspect(engine).get_table_names())
        assert {"spans", "llm_calls", "spend_minutes", "api_keys", "audit_log"} <= tables
    finally:
        engine.dispose()
