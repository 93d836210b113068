"""UI read path: accuracy_hours (cost-accuracy rollup) and its fold mark; SQLite triggers

Revision ID: 0008_ui_perf
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

# The models must be on SQLModel.metadata wherever the schema is compared with them: this
# import registers them even when nothing else has imported store.tables_accuracy yet.
import store.tables_accuracy  # noqa: F401
from store.accuracy_rollup import KEY, MEASURES, fold_new_calls, trigger_upsert

revision = "0008_ui_perf"
down_revision = "0001"
branch_labels = None
depends_on = None

_WATCHED = "org_id, minute, model, provider, billed, cost_nanousd, client_cost_nanousd"
_FOLDED = "OLD.rowid <= (SELECT last_rowid FROM accuracy_folds WHERE id = 1)"


def upgrade() -> None:
    """Create the tables; on SQLite add the triggers and fold every stored call in."""
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "accuracy_hours",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("model", text(), nullable=False),
        sa.Column("provider", text(), nullable=False),
        *(sa.Column(m, sa.BigInteger(), nullable=False) for m in MEASURES),
        sa.PrimaryKeyConstraint(*KEY),
    )
    op.create_table(
        "accuracy_folds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_rowid", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    if op.get_bind().dialect.name != "sqlite":
        return
    # Only calls already folded in are followed: later ones are folded with their final
    # values.  Inserts, the hot path, fire nothing; these columns are updated by a second
    # description of a call (mostly before its call is folded: then only WHEN is tested),
    # unbilling and re-pricing.
    new, old = trigger_upsert("NEW.", ""), trigger_upsert("OLD.", "-")
    op.execute(
        f"CREATE TRIGGER accuracy_hours_au AFTER UPDATE OF {_WATCHED} ON llm_calls "
        f"WHEN {_FOLDED} BEGIN {old} {new} END"
    )
    op.execute(
        f"CREATE TRIGGER accuracy_hours_ad AFTER DELETE ON llm_calls WHEN {_FOLDED} BEGIN {old} END"
    )
    op.execute("INSERT INTO accuracy_folds (id, last_rowid) VALUES (1, 0)")
    fold_new_calls(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS accuracy_hours_ad")
        op.execute("DROP TRIGGER IF EXISTS accuracy_hours_au")
    op.drop_table("accuracy_folds")
    op.drop_table("accuracy_hours")
