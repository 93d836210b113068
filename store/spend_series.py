"""Per-minute spend series of sessions and keys, and their costliest traces (runaway alerts).

Sessions are not a rollup dimension, so the series come from llm_calls through the
(org_id, minute) index, bounded to the few minutes the detector looks at.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, func, select

from store.tables import LlmCallRow

CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]

Series = dict[int, int]  # UTC minute -> nano-USD


def call_series(
    conn: Connection,
    org_id: int,
    column: str,
    values: Sequence[Any],
    first_minute: int,
    last_minute: int,
) -> dict[Any, Series]:
    """Billed per-call spend per minute, grouped by `column` (session_id or key_id).

    Per-session aggregates (metric points) are left out: their whole session's cost sits in
    one minute and would look like a jump.
    """
    c = CALLS.c
    col = c[column]
    stmt = (
        select(col, c.minute, func.sum(c.cost_nanousd))
        .where(c.org_id == org_id, c.minute >= first_minute, c.minute <= last_minute)
        .where(col.in_(list(values)), c.billed.is_(True), c.granularity == "call")
        .group_by(col, c.minute)
    )
    out: dict[Any, Series] = {}
    for value, minute, cost in conn.execute(stmt):
        out.setdefault(value, {})[int(minute)] = int(cost or 0)
    return out


def costliest_trace(
    conn: Connection, org_id: int, session_id: str, first_minute: int, last_minute: int
) -> tuple[str, int]:
    """(trace id, spend) of the session's costliest trace in the minutes; ('', 0) if none."""
    c = CALLS.c
    total = func.sum(c.cost_nanousd)
    stmt = (
        select(c.trace_id, total)
        .where(c.org_id == org_id, c.minute >= first_minute, c.minute <= last_minute)
        .where(c.session_id == session_id, c.trace_id != "", c.billed.is_(True))
        .group_by(c.trace_id)
        .order_by(total.desc(), c.trace_id)
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return (str(row[0]), int(row[1] or 0)) if row else ("", 0)


def costliest_session(conn: Connection, org_id: int, key_id: int, minute: int) -> str:
    """The session that spent most through a key in one minute ('' if none had an id)."""
    c = CALLS.c
    total = func.sum(c.cost_nanousd)
    stmt = (
        select(c.session_id)
        .where(c.org_id == org_id, c.minute == minute, c.key_id == key_id)
        .where(c.session_id != "", c.billed.is_(True))
        .group_by(c.session_id)
        .order_by(total.desc(), c.session_id)
        .limit(1)
    )
    return str(conn.execute(stmt).scalar() or "")
