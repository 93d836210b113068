"""Cross-source call matching: llm_calls.duplicate_of, llm_calls.match_key and its index

Calls stored before this revision keep match_key NULL: they are never matched (a late
description of such a call, arriving after the upgrade, is billed as before).

Revision ID: 0007_call_matching
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_call_matching"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the matching columns and the partial index that finds candidates."""
    op.add_column(
        "llm_calls",
        sa.Column(
            "duplicate_of", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
        ),
    )
    op.add_column("llm_calls", sa.Column("match_key", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_llm_calls_match",
        "llm_calls",
        ["match_key"],
        unique=False,
        sqlite_where=sa.text("match_key IS NOT NULL"),
        postgresql_where=sa.text("match_key IS NOT NULL"),
    )


def downgrade() -> None:
    """Drop them again (plain ALTER TABLE DROP COLUMN keeps 0005_ui's triggers on SQLite)."""
    op.drop_index("ix_llm_calls_match", table_name="llm_calls")
    op.drop_column("llm_calls", "match_key")
    op.drop_column("llm_calls", "duplicate_of")
