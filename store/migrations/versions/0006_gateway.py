"""Gateway: budget reservations, their lock rows, the response cache

Revision ID: 0006_gateway
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_gateway"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the gateway tables."""
    op.create_table(
        "gateway_budget_locks",
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("budget_id", "subject_id"),
    )
    op.create_table(
        "gateway_reservations",
        sa.Column("reservation_id", sa.Text(), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("window_start_minute", sa.BigInteger(), nullable=False),
        sa.Column("amount_nanousd", sa.BigInteger(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("reservation_id", "budget_id", "subject_id"),
    )
    op.create_index(
        "ix_gateway_reservations_budget", "gateway_reservations", ["budget_id", "subject_id"]
    )
    op.create_table(
        "gateway_cache",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("cost_nanousd", sa.BigInteger(), nullable=False),
        sa.Column("created_ns", sa.BigInteger(), nullable=False),
        sa.Column("expires_ns", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("saved_nanousd", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "request_hash"),
    )


def downgrade() -> None:
    """Drop the gateway tables."""
    op.drop_table("gateway_cache")
    op.drop_index("ix_gateway_reservations_budget", table_name="gateway_reservations")
    op.drop_table("gateway_reservations")
    op.drop_table("gateway_budget_locks")
