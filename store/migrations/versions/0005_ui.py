"""UI read path: spend_hours, trace_spend, session_spend (kept by SQLite triggers), indexes

Revision ID: 0005_ui
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005_ui"
down_revision = "0001"
branch_labels = None
depends_on = None

_DIMS = ("org_id", "workspace_id", "user_id", "key_id", "agent", "model")
_MEASURES = (
    "calls",
    "unpriced_calls",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_nanousd",
)
# Per-trace / per-session sums, and the identity of the first call that created the row.
_SUMS = (
    "calls",
    "unpriced_calls",
    "cost_nanousd",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
)
_SUMMARIES = {  # table -> (key column of llm_calls, identity columns kept)
    "trace_spend": ("trace_id", ("workspace_id", "user_id", "key_id", "agent", "session_id")),
    "session_spend": ("session_id", ("workspace_id", "user_id", "key_id", "agent")),
}
_TRIGGERS = (
    "spend_hours_ai",
    "spend_hours_au",
    "spend_hours_ad",
    "trace_spend_ai",  # older stores: dropped on downgrade if present
    "trace_spend_au",
    "session_spend_ai",
    "session_spend_au",
)


def _hour_upsert(row: str) -> str:
    """An upsert adding (NEW) or subtracting (OLD) one minute row's measures to its hour."""
    cols = ", ".join(("hour", *_DIMS, *_MEASURES))
    sign = "-" if row == "OLD" else ""
    values = ", ".join(
        (
            f"{row}.minute / 60",
            *(f"{row}.{d}" for d in _DIMS),
            *(f"{sign}{row}.{m}" for m in _MEASURES),
        )
    )
    sets = ", ".join(f"{m} = {m} + excluded.{m}" for m in _MEASURES)
    return (
        f"INSERT INTO spend_hours ({cols}) VALUES ({values}) "
        f"ON CONFLICT (hour, {', '.join(_DIMS)}) DO UPDATE SET {sets};"
    )


def _hour_triggers() -> None:
    # The writer upserts minutes (ON CONFLICT DO UPDATE fires the UPDATE trigger), re-pricing
    # updates them: the hour tier follows inside the same statement, never stale.
    body = {"ai": _hour_upsert("NEW"), "au": _hour_upsert("OLD") + _hour_upsert("NEW")}
    body["ad"] = _hour_upsert("OLD")
    for suffix, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE")):
        op.execute(
            f"CREATE TRIGGER spend_hours_{suffix} AFTER {event} ON spend_minutes "
            f"BEGIN {body[suffix]} END"
        )
    cols = ", ".join(("hour", *_DIMS, *_MEASURES))
    sums = ", ".join(f"SUM({m})" for m in _MEASURES)
    op.execute(  # existing stores: build the tier from the minutes already there
        f"INSERT INTO spend_hours ({cols}) SELECT minute / 60, {', '.join(_DIMS)}, {sums} "
        f"FROM spend_minutes GROUP BY minute / 60, {', '.join(_DIMS)}"
    )


def _summary_upsert(table: str, row: str, sign: str) -> str:
    """Add (sign '') or subtract (sign '-') one billed call to/from its trace/session row."""
    key, identity = _SUMMARIES[table]
    sums = (
        f"{sign}1",
        f"{sign}({row}.cost_nanousd IS NULL)",
        f"{sign}COALESCE({row}.cost_nanousd, 0)",
        *(f"{sign}{row}.{t}" for t in _SUMS[3:]),
    )
    head = (f"{row}.org_id", f"{row}.{key}", f"{row}.minute", f"{row}.start_ns", f"{row}.end_ns")
    values = ", ".join((*head, *sums, *(f"{row}.{c}" for c in identity)))
    cols = ("org_id", key, "first_minute", "start_ns", "end_ns", *_SUMS, *identity)
    sets = [f"{m} = {m} + excluded.{m}" for m in _SUMS]
    if not sign:  # an unbilled call leaves the start/end as they were
        sets += [
            "first_minute = MIN(first_minute, excluded.first_minute)",
            "start_ns = MIN(start_ns, excluded.start_ns)",
            "end_ns = MAX(end_ns, excluded.end_ns)",
        ]
    if "session_id" in identity:
        sets.append(
            "session_id = CASE WHEN session_id = '' THEN excluded.session_id ELSE session_id END"
        )
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {values} "
        f"WHERE {row}.billed AND {row}.{key} != '' "
        f"ON CONFLICT (org_id, {key}) DO UPDATE SET {', '.join(sets)};"
    )


def _summary_triggers(table: str) -> None:
    # New calls are added by the writer itself, once per trace/session per batch
    # (store.write_ops.add_call_summaries): a per-row INSERT trigger cost ingest ~15 %.
    # Update: unbilled aggregates, re-pricing, a trace id learnt from a second description
    # of the call.  Calls are never deleted.
    key, identity = _SUMMARIES[table]
    op.execute(
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF billed, cost_nanousd, {key}, input_tokens, "
        f"cache_read_tokens, cache_write_tokens, output_tokens ON llm_calls BEGIN "
        f"{_summary_upsert(table, 'OLD', '-')} {_summary_upsert(table, 'NEW', '')} END"
    )
    sums = ", ".join(
        (
            "COUNT(*)",
            "SUM(cost_nanousd IS NULL)",
            "COALESCE(SUM(cost_nanousd), 0)",
            *(f"SUM({t})" for t in _SUMS[3:]),
        )
    )
    first = ", ".join(f"MIN({c})" for c in identity)  # one call's identity is enough
    op.execute(
        f"INSERT INTO {table} (org_id, {key}, first_minute, start_ns, end_ns, "
        f"{', '.join((*_SUMS, *identity))}) SELECT org_id, {key}, MIN(minute), "
        f"MIN(start_ns), MAX(end_ns), {sums}, {first} FROM llm_calls "
        f"WHERE billed AND {key} != '' GROUP BY org_id, {key}"
    )


def _summary_table(table: str) -> None:
    key, identity = _SUMMARIES[table]
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        table,
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column(key, text(), nullable=False),
        sa.Column("first_minute", sa.Integer(), nullable=False),
        sa.Column("start_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_ns", sa.BigInteger(), nullable=False),
        *(sa.Column(m, sa.BigInteger(), nullable=False) for m in _SUMS),
        *(
            sa.Column(c, text() if c in ("agent", "session_id") else sa.Integer(), nullable=False)
            for c in identity
        ),
        sa.PrimaryKeyConstraint("org_id", key),
    )
    op.create_index(f"ix_{table}_org_cost", table, ["org_id", "cost_nanousd", key], unique=False)
    op.create_index(f"ix_{table}_org_minute", table, ["org_id", "first_minute"], unique=False)


def upgrade() -> None:
    op.create_table(
        "spend_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("agent", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        *(sa.Column(m, sa.BigInteger(), nullable=False) for m in _MEASURES),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hour", *_DIMS, name="uq_spend_hours_dims"),
    )
    op.create_index("ix_spend_hours_org_hour", "spend_hours", ["org_id", "hour"], unique=False)
    for table in _SUMMARIES:
        _summary_table(table)
    op.create_index(
        "ix_llm_calls_org_user_minute", "llm_calls", ["org_id", "user_id", "minute"], unique=False
    )
    op.create_index(
        "ix_llm_calls_unpriced",
        "llm_calls",
        ["model", "provider"],
        unique=False,
        sqlite_where=sa.text("cost_nanousd IS NULL"),
        postgresql_where=sa.text("cost_nanousd IS NULL"),
    )
    if op.get_bind().dialect.name == "sqlite":
        _hour_triggers()
        for table in _SUMMARIES:
            _summary_triggers(table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_llm_calls_unpriced", table_name="llm_calls")
    op.drop_index("ix_llm_calls_org_user_minute", table_name="llm_calls")
    for table in _SUMMARIES:
        op.drop_index(f"ix_{table}_org_minute", table_name=table)
        op.drop_index(f"ix_{table}_org_cost", table_name=table)
        op.drop_table(table)
    op.drop_index("ix_spend_hours_org_hour", table_name="spend_hours")
    op.drop_table("spend_hours")
