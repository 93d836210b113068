"""Alembic environment: uses the engine handed over in config.attributes."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import store.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
import store.tables_accuracy  # noqa: F401
import store.tables_budgets  # noqa: F401
import store.tables_evals  # noqa: F401
import store.tables_gateway  # noqa: F401
import store.tables_prices  # noqa: F401
import store.tables_ui  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    """Run migrations on the engine the caller passed in."""
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
