"""Set-based write operations of the hot path (SQLAlchemy Core, one statement per kind).

Idempotency: spans are keyed by (trace_id, span_id) and calls by call_id; both insert with
ON CONFLICT DO NOTHING, and only rows that were really inserted reach the rollups, so a
resent batch adds nothing.  Aggregates (per-session sums) are billed only while their
session has no per-call rows; when per-call rows arrive later the aggregates are unbilled
and subtracted from the rollups in the same transaction.  A per-call row describing a call
already stored from another channel (the gateway, a client's span, its log event) is stored
unbilled as a duplicate of it (store.call_matching).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.bulk import insert_ignore, insert_ignore_returning
from store.call_matching import enrich_stored_primaries, lock_users, plan_duplicates
from store.call_summaries import add_call_summaries
from store.evaluations import write_evaluations
from store.tables import (
    ROLLUP_DIMENSIONS,
    ROLLUP_MEASURES,
    LlmCallRow,
    SpanRow,
    SpendMinute,
    User,
    utcnow,
)
from store.usage_fill import fill_usage

if TYPE_CHECKING:
    from store.writer import WriteBatch

SPANS = SpanRow.__table__  # type: ignore[attr-defined]
CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
ROLLUP = SpendMinute.__table__  # type: ignore[attr-defined]
USERS = User.__table__  # type: ignore[attr-defined]
_NS_PER_MINUTE = 60_000_000_000
_CALL_COLUMNS = tuple(c.name for c in CALLS.columns)
_call_values = itemgetter(*_CALL_COLUMNS)  # a row dict's values in _CALL_COLUMNS order
_TOKEN_MEASURES = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)
_rollup_dims = itemgetter(*ROLLUP_DIMENSIONS)
_token_values = itemgetter(*_TOKEN_MEASURES)
# What unbilling an aggregate reads back: its id, rollup dimensions and measures.
_AGGREGATE_COLUMNS = ("call_id", *ROLLUP_DIMENSIONS, "cost_nanousd", *_TOKEN_MEASURES)
# What a prepared span row holds (collector_processor.prepare builds it in this order), and
# the three identity columns the serving process appends from the ingest key.
SPAN_VALUE_COLUMNS = (
    "trace_id",
    "span_id",
    "parent_span_id",
    "name",
    "kind",
    "start_ns",
    "end_ns",
    "status_code",
    "status_message",
    "service_name",
    "scope_name",
    "attributes",
    "resource",
    "events",
)
SPAN_INSERT_COLUMNS = (*SPAN_VALUE_COLUMNS, "org_id", "workspace_id", "key_id")


@dataclass(frozen=True, slots=True)
class WriteCounts:
    """What one batch changed: inserted calls, calls already stored (resends), and inserted
    calls that describe a call stored from another channel (stored unbilled, duplicate_of)."""

    calls_inserted: int = 0
    calls_duplicate: int = 0
    calls_matched: int = 0


def _insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def write_group(
    conn: Connection, batches: Sequence[WriteBatch], user_cache: dict[tuple[int, str], int]
) -> list[WriteCounts]:
    """Write a group of batches inside the caller's transaction."""
    _resolve_users(conn, batches, user_cache)
    lock_users(conn, (c["user_id"] for b in batches for c in b.calls if c["granularity"] == "call"))
    spans = [row for b in batches for row in b.spans]
    insert_ignore(conn, "spans", SPAN_INSERT_COLUMNS, spans)
    deltas: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(ROLLUP_MEASURES))
    counts = [_write_calls(conn, b.calls, deltas) for b in batches]
    _apply_rollup(conn, deltas)
    write_evaluations(conn, batches)
    return counts


def _resolve_users(
    conn: Connection, batches: Sequence[WriteBatch], cache: dict[tuple[int, str], int]
) -> None:
    """Give every call a user_id: resolve hinted names once per group, creating users."""
    wanted = {
        (b.org_id, c["user_name"])
        for b in batches
        for c in b.calls
        if c.get("user_id") is None and c.get("user_name")
    }
    missing = [k for k in wanted if k not in cache]
    if missing:
        rows = [{"org_id": o, "name": n, "created_at": utcnow()} for o, n in missing]
        conn.execute(_insert(conn, USERS).on_conflict_do_nothing(), rows)
        for org_id in {o for o, _ in missing}:
            names = [n for o, n in missing if o == org_id]
            stmt = select(USERS.c.id, USERS.c.name).where(
                and_(USERS.c.org_id == org_id, USERS.c.name.in_(names))
            )
            for uid, name in conn.execute(stmt):
                cache[(org_id, name)] = uid
    for b in batches:
        for c in b.calls:
            if c.get("user_id") is None:
                c["user_id"] = cache[(b.org_id, c["user_name"])]


def _write_calls(
    conn: Connection, calls: list[dict[str, Any]], deltas: dict[tuple[Any, ...], list[int]]
) -> WriteCounts:
    if not calls:
        return WriteCounts()
    # One request may describe a call twice (Gemini CLI's api_response and its inference
    # details event); the first description wins, the rest only enrich it.
    rows: list[dict[str, Any]] = []
    extras: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in calls:
        (extras if r["call_id"] in seen else rows).append(r)
        seen.add(r["call_id"])
    for r in rows:
        r.setdefault("minute", r["start_ns"] // _NS_PER_MINUTE)
    _mark_superseded_aggregates(conn, rows)
    matched = plan_duplicates(conn, rows)
    tuples = [_call_values(r) for r in rows]
    inserted = insert_ignore_returning(conn, "llm_calls", _CALL_COLUMNS, tuples, "call_id")
    new_rows = [r for r in rows if r["call_id"] in inserted]
    _add_deltas(deltas, (r for r in new_rows if r["billed"]), +1)
    for before, after in enrich_stored_primaries(
        conn, ((dup, group) for dup, group in matched if dup["call_id"] in inserted)
    ):
        _add_deltas(deltas, [before], -1)
        _add_deltas(deltas, [after], +1)
    add_call_summaries(conn, new_rows)
    sessions = {
        (r["org_id"], r["session_id"])
        for r in new_rows
        if r["granularity"] == "call" and r["session_id"]
    }
    _unbill_aggregates(conn, sessions, deltas)
    again = [r for r in rows if r["call_id"] not in inserted] + extras
    for before, after in fill_usage(conn, again):
        _add_deltas(deltas, [before], -1)
        _add_deltas(deltas, [after], +1)
    _enrich_duplicates(conn, again)
    duplicates = sum(1 for r in new_rows if r["duplicate_of"])
    return WriteCounts(len(new_rows), len(calls) - len(new_rows), duplicates)


def _mark_superseded_aggregates(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """An aggregate arriving for a session that already has per-call rows is not billed."""
    per_call_in_batch = {(r["org_id"], r["session_id"]) for r in rows if r["granularity"] == "call"}
    agg = [r for r in rows if r["granularity"] == "aggregate" and r["session_id"]]
    for r in rows:
        r.setdefault("billed", True)
    if not agg:
        return
    keys = {(r["org_id"], r["session_id"]) for r in agg} - per_call_in_batch
    stored = _sessions_with_calls(conn, keys) | per_call_in_batch
    for r in agg:
        if (r["org_id"], r["session_id"]) in stored:
            r["billed"] = False


def _sessions_with_calls(conn: Connection, keys: set[tuple[int, str]]) -> set[tuple[int, str]]:
    found: set[tuple[int, str]] = set()
    for org_id in {o for o, _ in keys}:
        sessions = [s for o, s in keys if o == org_id]
        stmt = (
            select(CALLS.c.session_id)
            .where(CALLS.c.org_id == org_id, CALLS.c.granularity == "call")
            .where(CALLS.c.session_id.in_(sessions))
            .distinct()
        )
        found.update((org_id, s) for s in conn.execute(stmt).scalars())
    return found


def _unbill_aggregates(
    conn: Connection, sessions: set[tuple[int, str]], deltas: dict[tuple[Any, ...], list[int]]
) -> None:
    """Per-call rows arrived for these sessions: their billed aggregates stop counting."""
    cols = ", ".join(_AGGREGATE_COLUMNS)
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    for org_id in {o for o, _ in sessions}:
        # One SELECT per batch finds the (rare) aggregates to unbill; the UPDATE runs only then.
        # Driver SQL: SQLAlchemy's per-call compilation of the IN list cost more than the
        # probe.  `granularity = 'aggregate'` is a literal so the partial index can serve it.
        names = [s for o, s in sessions if o == org_id]
        sql = (
            f"SELECT {cols} FROM llm_calls WHERE org_id = {mark} "
            f"AND granularity = 'aggregate' AND billed "
            f"AND session_id IN ({', '.join([mark] * len(names))})"
        )
        found = conn.exec_driver_sql(sql, (org_id, *names)).all()
        if not found:
            continue
        rows = [dict(zip(_AGGREGATE_COLUMNS, r, strict=True)) for r in found]
        ids = [r["call_id"] for r in rows]
        conn.execute(update(CALLS).where(CALLS.c.call_id.in_(ids)).values(billed=False))
        _add_deltas(deltas, rows, -1)


def _add_deltas(
    deltas: dict[tuple[Any, ...], list[int]], rows: Iterable[dict[str, Any]], sign: int
) -> None:
    for r in rows:
        acc = deltas[_rollup_dims(r)]
        cost = r.get("cost_nanousd")
        acc[0] += sign
        if cost is None:
            acc[1] += sign
        else:
            acc[7] += sign * cost
        for i, tokens in enumerate(_token_values(r), start=2):
            acc[i] += sign * tokens


def _apply_rollup(conn: Connection, deltas: dict[tuple[Any, ...], list[int]]) -> None:
    if not deltas:
        return
    rows = [
        {
            **dict(zip(ROLLUP_DIMENSIONS, dims, strict=True)),
            **dict(zip(ROLLUP_MEASURES, m, strict=True)),
        }
        for dims, m in deltas.items()
    ]
    conn.execute(_rollup_upsert(conn.dialect.name), rows)


_ROLLUP_UPSERTS: dict[str, Any] = {}


def _rollup_upsert(dialect_name: str) -> Any:
    """The rollup upsert statement, built once per dialect: building it (its `excluded`
    column collection) had been a third of the writer's Python time per commit."""
    stmt = _ROLLUP_UPSERTS.get(dialect_name)
    if stmt is None:
        base = (postgresql if dialect_name == "postgresql" else sqlite).insert(ROLLUP)
        stmt = base.on_conflict_do_update(
            index_elements=list(ROLLUP_DIMENSIONS),
            set_={m: ROLLUP.c[m] + base.excluded[m] for m in ROLLUP_MEASURES},
        )
        _ROLLUP_UPSERTS[dialect_name] = stmt
    return stmt


def _enrich_duplicates(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """A second description of a stored call may add what the first lacked (ids, client cost).

    Conditional UPDATEs (executemany) touch only rows still missing the value, so a plain
    resend of the same batch changes nothing.
    """
    with_ids = [
        {"cid": r["call_id"], "t": r["trace_id"], "s": r.get("span_id", "")}
        for r in rows
        if r.get("trace_id")
    ]
    if with_ids:
        stmt = (
            update(CALLS)
            .where(CALLS.c.call_id == bindparam("cid"), CALLS.c.trace_id == "")
            .values(trace_id=bindparam("t"), span_id=bindparam("s"))
        )
        conn.execute(stmt, with_ids)
    with_cost = [
        {"cid": r["call_id"], "c": r["client_cost_nanousd"]}
        for r in rows
        if r.get("client_cost_nanousd") is not None
    ]
    if with_cost:
        stmt = (
            update(CALLS)
            .where(CALLS.c.call_id == bindparam("cid"), CALLS.c.client_cost_nanousd.is_(None))
            .values(client_cost_nanousd=bindparam("c"))
        )
        conn.execute(stmt, with_cost)
