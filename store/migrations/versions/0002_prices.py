"""prices: version snapshots, scoped overrides, unpriced-model sightings

Revision ID: 0002_prices
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002_prices"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_snapshots",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("effective_from", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("models", sa.Integer(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["price_versions.id"]),
        sa.PrimaryKeyConstraint("version_id"),
    )
    op.create_index(op.f("ix_price_snapshots_sha256"), "price_snapshots", ["sha256"], unique=False)
    op.create_table(
        "price_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("discount_pct", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("input_usd_per_mtok", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("cache_read_usd_per_mtok", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("cache_write_usd_per_mtok", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("cache_write_1h_usd_per_mtok", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("output_usd_per_mtok", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reasoning_usd_per_mtok", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("valid_from", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("valid_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"]),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_price_overrides_model", "price_overrides", ["model"], unique=False)
    op.create_table(
        "unpriced_model_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("first_seen_ns", sa.BigInteger(), nullable=False),
        sa.Column("call_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "provider", "model", name="uq_unpriced_model_sightings"),
    )


def downgrade() -> None:
    op.drop_table("unpriced_model_sightings")
    op.drop_index("ix_price_overrides_model", table_name="price_overrides")
    op.drop_table("price_overrides")
    op.drop_index(op.f("ix_price_snapshots_sha256"), table_name="price_snapshots")
    op.drop_table("price_snapshots")
