"""Per-trace and per-session spend summaries (trace_spend, session_spend) for the UI.

On SQLite the writer adds each batch's new billed calls here in sets — one upsert per trace
and per session, not one per call — and triggers on llm_calls follow later updates
(unbilling, re-pricing, an agent / session id / trace id filled in by a second description of
a call: migrations 0005_ui and 0009_trace_spend_fill_ins).  A row's identity columns are
those of its first call, an empty agent or session id taken from a later call.  On
PostgreSQL the tables stay empty: its queries read the calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

_SUMS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
_SUMMARIES = (  # table, key column, identity columns taken from the first call seen
    ("trace_spend", "trace_id", ("workspace_id", "user_id", "key_id", "agent", "session_id")),
    ("session_spend", "session_id", ("workspace_id", "user_id", "key_id", "agent")),
)
_FILLED = ("agent", "session_id")  # identity a later call fills in when the first lacked it
# Positions in a group's accumulator list (the _SUMS follow at 6..9).
_MIN_MINUTE, _MIN_START, _MAX_END, _CALLS, _UNPRICED, _COST = range(6)
_sums = itemgetter(*_SUMS)
_times = itemgetter("minute", "start_ns", "end_ns")


def add_call_summaries(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Add new billed calls to their trace and session summaries (SQLite only)."""
    if conn.dialect.name != "sqlite":
        return
    billed = [r for r in rows if r["billed"]]
    for table, key, identity in _SUMMARIES:
        groups = _group(billed, key, identity)
        if groups:
            rows_out = [tuple(g) for g in groups.values()]
            conn.exec_driver_sql(_upsert_sql(table, key, identity), rows_out)


def _group(
    rows: list[dict[str, Any]], key: str, identity: tuple[str, ...]
) -> dict[tuple[int, str], list[Any]]:
    # Hot: one pass per table over every new call of a batch; itemgetter, no inner loops.
    groups: dict[tuple[int, str], list[Any]] = {}
    identity_of = itemgetter(*identity)
    # Where the filled-in identity sits in a group's list (0: not kept in this table).
    agent_at, session_at = (
        6 + len(_SUMS) + identity.index(c) if c in identity else 0 for c in _FILLED
    )
    for r in rows:
        k = r[key]
        if not k:
            continue
        minute, start, end = _times(r)
        g = groups.get((r["org_id"], k))
        if g is None:
            head = [minute, start, end, 0, 0, 0, *(0 for _ in _SUMS)]
            g = groups[(r["org_id"], k)] = [*head, *identity_of(r), r["org_id"], k]
        else:
            g[_MIN_MINUTE] = min(g[_MIN_MINUTE], minute)
            g[_MIN_START] = min(g[_MIN_START], start)
            g[_MAX_END] = max(g[_MAX_END], end)
            # As the triggers: fill a missing agent / session id from a later call.
            if agent_at and not g[agent_at] and r["agent"]:
                g[agent_at] = r["agent"]
            if session_at and not g[session_at] and r["session_id"]:
                g[session_at] = r["session_id"]
        cost = r["cost_nanousd"]
        g[_CALLS] += 1
        if cost is None:
            g[_UNPRICED] += 1
        else:
            g[_COST] += cost
        inp, read, write, out = _sums(r)
        g[6] += inp
        g[7] += read
        g[8] += write
        g[9] += out
    return groups


def _upsert_sql(table: str, key: str, identity: tuple[str, ...]) -> str:
    sums = ("calls", "unpriced_calls", "cost_nanousd", *_SUMS)
    cols = ("first_minute", "start_ns", "end_ns", *sums, *identity, "org_id", key)
    sets = [f"{m} = {m} + excluded.{m}" for m in sums] + [
        "first_minute = MIN(first_minute, excluded.first_minute)",
        "start_ns = MIN(start_ns, excluded.start_ns)",
        "end_ns = MAX(end_ns, excluded.end_ns)",
    ]
    sets += [
        f"{c} = CASE WHEN {c} = '' THEN excluded.{c} ELSE {c} END" for c in _FILLED if c in identity
    ]
    marks = ", ".join("?" * len(cols))
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) "
        f"ON CONFLICT (org_id, {key}) DO UPDATE SET {', '.join(sets)}"
    )
