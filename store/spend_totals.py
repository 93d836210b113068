"""All-time spend and token totals per (org, workspace, user, agent, model), for /metrics.

A scrape must not sum the whole rollup table every time, so totals are a frozen *base*
(minutes before a cutoff) plus a live *tail* (the last couple of hours).  The base advances
by summing only the minutes that leave the tail, and is rebuilt from scratch daily so late
data and re-pricing of old minutes are picked up.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, func, select

from store.subjects import ORGS, USERS, WORKSPACES
from store.tables import ROLLUP_MEASURES, SpendMinute

ROLLUP: Table = SpendMinute.__table__  # type: ignore[attr-defined]
TOTAL_DIMENSIONS = ("org_id", "workspace_id", "user_id", "agent", "model")
TAIL_MINUTES = 120
REBUILD_S = 24 * 3600

Totals = dict[tuple[Any, ...], list[int]]  # dims -> ROLLUP_MEASURES in order


def sum_minutes(conn: Connection, first_minute: int | None, end_minute: int | None) -> Totals:
    """Sum the rollup over [first, end) minutes (None: unbounded) per total dimension."""
    r = ROLLUP.c
    dims = [r[d] for d in TOTAL_DIMENSIONS]
    stmt = select(*dims, *(func.sum(r[m]) for m in ROLLUP_MEASURES)).group_by(*dims)
    if first_minute is not None:
        stmt = stmt.where(r.minute >= first_minute)
    if end_minute is not None:
        stmt = stmt.where(r.minute < end_minute)
    n = len(TOTAL_DIMENSIONS)
    return {tuple(row[:n]): [int(v or 0) for v in row[n:]] for row in conn.execute(stmt)}


def _add(into: Totals, more: Totals) -> None:
    for dims, values in more.items():
        acc = into.setdefault(dims, [0] * len(ROLLUP_MEASURES))
        for i, v in enumerate(values):
            acc[i] += v


class SpendTotals:
    """Running all-time totals: base + tail, as described in the module docstring."""

    def __init__(self) -> None:
        self._base: Totals = {}
        self._base_end: int | None = None
        self._built_at = 0.0

    def snapshot(self, conn: Connection, now_minute: int) -> Totals:
        """Current totals per dimension tuple."""
        cutoff = now_minute - TAIL_MINUTES
        if self._base_end is None or time.monotonic() - self._built_at > REBUILD_S:
            self._base = sum_minutes(conn, None, cutoff)
            self._base_end, self._built_at = cutoff, time.monotonic()
        elif cutoff > self._base_end:
            _add(self._base, sum_minutes(conn, self._base_end, cutoff))
            self._base_end = cutoff
        out: Totals = {k: list(v) for k, v in self._base.items()}
        _add(out, sum_minutes(conn, self._base_end, None))
        return out


def dimension_names(conn: Connection) -> dict[str, dict[int, str]]:
    """Names of orgs, workspaces and users by id (metric labels)."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for label, table in (("org", ORGS), ("workspace", WORKSPACES), ("user", USERS)):
        for ident, name in conn.execute(select(table.c.id, table.c.name)):
            out[label][int(ident)] = str(name)
    return out
