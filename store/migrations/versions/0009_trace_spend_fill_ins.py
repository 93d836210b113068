"""trace_spend / session_spend follow a call's agent and session id filled in later (SQLite)

Cross-channel matching (store.call_matching.enrich_stored_primaries) fills a stored call's
missing trace id, session id and agent with an UPDATE of llm_calls.  The UPDATE triggers of
0005_ui followed the trace id (a key column) but not `agent` or `session_id`, so a summary
row kept an empty agent or session id: the Traces page's agent filter and session column,
which read trace_spend on wide windows, missed the call.  The triggers now also fire on
those columns, and an empty agent or session id of a summary row is filled from the call,
as the writer does for new calls (store.call_summaries).  Rows already stale are repaired.

PostgreSQL keeps no summaries (its queries read llm_calls): nothing to do there.

Revision ID: 0009_trace_spend_fill_ins
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0009_trace_spend_fill_ins"
down_revision = "0001"
branch_labels = None
depends_on = "0005_ui"

# Frozen copies of 0005_ui's definitions, as of this revision.
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
# Identity a later description of the call may fill in (store.call_matching.ENRICHED).
_FILLED = ("agent", "session_id")


def _upsert(table: str, row: str, sign: str, filled: tuple[str, ...]) -> str:
    """Add (sign '') or subtract (sign '-') one billed call to/from its trace/session row;
    the `filled` identity columns of the row take the call's value when they are empty."""
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
    sets += [
        f"{c} = CASE WHEN {c} = '' THEN excluded.{c} ELSE {c} END" for c in filled if c in identity
    ]
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {values} "
        f"WHERE {row}.billed AND {row}.{key} != '' "
        f"ON CONFLICT (org_id, {key}) DO UPDATE SET {', '.join(sets)};"
    )


def _create_trigger(table: str, filled: tuple[str, ...], watched: tuple[str, ...]) -> None:
    """{table}_au: fired by the columns summed, the key and `watched`."""
    key, _ = _SUMMARIES[table]
    columns = ("billed", "cost_nanousd", key, *_SUMS[3:], *(c for c in watched if c != key))
    op.execute(
        f"CREATE TRIGGER {table}_au AFTER UPDATE OF {', '.join(columns)} ON llm_calls BEGIN "
        f"{_upsert(table, 'OLD', '-', filled)} {_upsert(table, 'NEW', '', filled)} END"
    )


def _repair(table: str) -> None:
    """Fill the empty agent / session id of existing rows from their billed calls."""
    key, identity = _SUMMARIES[table]
    columns = [c for c in _FILLED if c in identity]
    sets = ", ".join(
        f"{c} = CASE WHEN {c} != '' THEN {c} ELSE COALESCE((SELECT MIN(k.{c}) FROM llm_calls k "
        f"WHERE k.{key} = {table}.{key} AND k.org_id = {table}.org_id AND k.billed "
        f"AND k.{c} != ''), '') END"
        for c in columns
    )
    empty = " OR ".join(f"{c} = ''" for c in columns)
    op.execute(f"UPDATE {table} SET {sets} WHERE {empty}")


def upgrade() -> None:
    """Replace the UPDATE triggers of trace_spend and session_spend; repair stale rows."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _SUMMARIES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_au")
        _create_trigger(table, _FILLED, _FILLED)
        _repair(table)


def downgrade() -> None:
    """Back to 0005_ui's triggers: only an empty session id of a trace is filled in, and only
    when a watched column changes."""
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in _SUMMARIES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_au")
        _create_trigger(table, ("session_id",), ())
