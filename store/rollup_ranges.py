"""Sums of the spend rollups over a minute range, read from the coarsest exact tier.

On SQLite a range [start, end) is read as its whole UTC hours from `spend_hours` plus the
ragged minutes at its two ends from `spend_minutes` (triggers keep the hours in the
writer's own transaction, see store.tables_ui: never stale); on PostgreSQL from
`spend_minutes` alone.  Each piece is one index range scan, grouped on its own: grouping a
UNION ALL of the pieces instead copies every row through a co-routine and sorts them all
again (~40 % slower on a month of hours).  Rows with equal keys from different pieces are
then added up here, in Python, over a few thousand rows at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Table, func, literal, select, union_all

from store.tables import ROLLUP_MEASURES, SpendMinute
from store.tables_ui import SpendHour

MINUTES: Table = SpendMinute.__table__  # type: ignore[attr-defined]
HOURS: Table = SpendHour.__table__  # type: ignore[attr-defined]
MINUTES_PER_HOUR = 60
_MAX_UNION = 200  # SELECTs per statement (SQLite allows 500 in one compound SELECT)

Sums = dict[tuple[Any, ...], list[int]]  # group keys -> summed measures, in the order asked


@dataclass(frozen=True, slots=True)
class SpendScope:
    """Which rollup rows count: one org, minutes [start, end), and optional filters."""

    org_id: int
    start_minute: int
    end_minute: int
    workspace_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()
    key_ids: tuple[int, ...] = ()
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end_minute < self.start_minute:
            raise ValueError("a spend range must not end before it starts")

    def during(self, start_minute: int, end_minute: int) -> SpendScope:
        """The same filters over another range."""
        return replace(self, start_minute=start_minute, end_minute=end_minute)


def _filtered(stmt: Select[Any], table: Table, scope: SpendScope) -> Select[Any]:
    c = table.c
    stmt = stmt.where(c.org_id == scope.org_id)
    for values, col in (
        (scope.workspace_ids, c.workspace_id),
        (scope.user_ids, c.user_id),
        (scope.key_ids, c.key_id),
        (scope.agents, c.agent),
        (scope.models, c.model),
    ):
        if values:
            stmt = stmt.where(col.in_(list(values)))
    return stmt


_Piece = tuple[Table, Any, ColumnElement[bool]]


def _pieces(conn: Connection, scope: SpendScope, whole_hours: bool) -> list[_Piece]:
    """(table, its minute expression, range condition) of each index range of `scope`;
    whole_hours False: minutes only (finer buckets than an hour)."""
    s, e = scope.start_minute, scope.end_minute
    m = MINUTES.c
    first_hour, end_hour = -(-s // MINUTES_PER_HOUR), e // MINUTES_PER_HOUR
    if not whole_hours or conn.dialect.name != "sqlite" or first_hour >= end_hour:
        return [(MINUTES, m.minute, (m.minute >= s) & (m.minute < e))]
    h = HOURS.c
    out: list[_Piece] = [
        (HOURS, h.hour * MINUTES_PER_HOUR, (h.hour >= first_hour) & (h.hour < end_hour))
    ]
    # Two separate ranges, not one OR: each stays an index range scan.
    for lo, hi in ((s, first_hour * MINUTES_PER_HOUR), (end_hour * MINUTES_PER_HOUR, e)):
        if lo < hi:
            out.append((MINUTES, m.minute, (m.minute >= lo) & (m.minute < hi)))
    return out


def range_sums(
    conn: Connection,
    scope: SpendScope,
    by: Sequence[str] = (),
    measures: Sequence[str] = ROLLUP_MEASURES,
    tag: str = "",
    bucket_minutes: int = 0,
) -> list[Select[Any]]:
    """SELECTs of (tag, [bucket,] *by, *SUM(measures)), one per index range of `scope`, each
    grouped on its own: run them with `add_up` (several scopes' parts may go together).

    bucket_minutes > 0 also groups by bucket: the first minute of the bucket_minutes-long
    UTC bucket holding the row (the hour tier is used only for whole-hour buckets).
    """
    out = []
    whole_hours = bucket_minutes % MINUTES_PER_HOUR == 0
    for table, minute, in_range in _pieces(conn, scope, whole_hours):
        keys: list[Any] = [table.c[c] for c in by]
        if bucket_minutes:
            keys.insert(0, (minute // bucket_minutes * bucket_minutes).label("bucket"))
        sums = [func.sum(table.c[m]) for m in measures]
        stmt = select(literal(tag).label("tag"), *keys, *sums).where(in_range)
        if keys:  # DISTINCT dedupes in a small b-tree; GROUP BY sorts every row first
            stmt = stmt.group_by(*keys) if measures else stmt.distinct()
        out.append(_filtered(stmt, table, scope))
    return out


def add_up(conn: Connection, parts: Sequence[Select[Any]], keys: int) -> Sums:
    """Run the UNION ALL of `parts`; add up the sums of rows whose first `keys` columns
    (tag, bucket, group columns) are equal."""
    out: Sums = {}
    for i in range(0, len(parts), _MAX_UNION):
        chunk = parts[i : i + _MAX_UNION]
        stmt = chunk[0] if len(chunk) == 1 else union_all(*chunk)
        for row in conn.execute(stmt):
            key, values = tuple(row[:keys]), row[keys:]
            acc = out.get(key)
            if acc is None:
                out[key] = [int(v or 0) for v in values]
            else:
                for j, v in enumerate(values):
                    acc[j] += int(v or 0)
    return out
