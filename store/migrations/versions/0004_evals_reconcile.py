"""evaluation tags and provider-reported spend (reconciliation)

Revision ID: 0004_evals_reconcile
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_evals_reconcile"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("trace_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("span_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("response_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("error_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("time_ns", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("updated_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "target", "name", "source", name="uq_evaluations_tag"),
    )
    op.create_index(
        "ix_evaluations_org_response", "evaluations", ["org_id", "response_id"], unique=False
    )
    op.create_index("ix_evaluations_org_trace", "evaluations", ["org_id", "trace_id"], unique=False)
    op.create_table(
        "reconcile_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("period_start_ns", sa.BigInteger(), nullable=False),
        sa.Column("period_end_ns", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("replaced_lines", sa.Integer(), nullable=False),
        sa.Column("imported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "reconcile_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("bucket_start_ns", sa.BigInteger(), nullable=False),
        sa.Column("bucket_end_ns", sa.BigInteger(), nullable=False),
        sa.Column("external_workspace", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_api_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_class", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cost_nanousd", sa.BigInteger(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("requests", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_reconcile_lines_org_bucket",
        "reconcile_lines",
        ["org_id", "bucket_start_ns"],
        unique=False,
    )
    op.create_table(
        "reconcile_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("provider", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "provider", "kind", "external_id", name="uq_reconcile_map"),
    )
    op.create_table(
        "reconcile_settings",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("count_uncaptured_in_budgets", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("org_id"),
    )
    op.create_table(
        "response_links",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("trace_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("span_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "response_id"),
    )


def downgrade() -> None:
    op.drop_table("response_links")
    op.drop_table("reconcile_settings")
    op.drop_table("reconcile_mappings")
    op.drop_index("ix_reconcile_lines_org_bucket", table_name="reconcile_lines")
    op.drop_table("reconcile_lines")
    op.drop_table("reconcile_imports")
    op.drop_index("ix_evaluations_org_trace", table_name="evaluations")
    op.drop_index("ix_evaluations_org_response", table_name="evaluations")
    op.drop_table("evaluations")
