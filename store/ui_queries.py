"""Read queries behind the UI's Overview: window totals, spend over time, breakdowns, movers.

Everything comes from the rollups, summed over ranges by store.rollup_ranges: on SQLite
whole hours from `spend_hours` plus the ragged minutes at both ends from `spend_minutes` —
exact to the minute, ~10x fewer rows than minutes alone; on PostgreSQL `spend_minutes`.
Each function is a few index range scans, each grouped on its own; none reads raw calls.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Table, select

from store.rollup_ranges import SpendScope, Sums, add_up, range_sums
from store.subjects import KEYS, USERS, WORKSPACES, subject_names
from store.tables import ROLLUP_MEASURES, SpendMinute

__all__ = ["SpendScope"]  # re-exported: the UI builds scopes from here

MINUTES: Table = SpendMinute.__table__  # type: ignore[attr-defined]
BREAKDOWN_DIMENSIONS = ("agent", "workspace", "user", "key", "model")
# Group columns of a breakdown row, and which of them each dimension reads.
_GROUP_COLUMNS = ("workspace_id", "user_id", "key_id", "agent", "model")
_DIM_INDEX = {"agent": 3, "workspace": 0, "user": 1, "key": 2, "model": 4}
_WIDTH = len(ROLLUP_MEASURES)


def window_totals(
    engine: Engine, scope: SpendScope, windows: dict[str, tuple[int, int]]
) -> dict[str, int]:
    """Billed nano-USD in each named [start, end) minute range (filters of `scope` apply)."""
    out = dict.fromkeys(windows, 0)
    with engine.connect() as conn:
        parts = [
            part
            for name, (s, e) in windows.items()
            for part in range_sums(conn, scope.during(s, e), (), ("cost_nanousd",), name)
        ]
        if parts:
            for (name,), (cost,) in add_up(conn, parts, 1).items():
                out[name] = cost
    return out


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Spend of one agent in one time bucket (bucket start as an aware UTC datetime)."""

    start: datetime
    agent: str
    calls: int
    cost_nanousd: int


RESOLUTIONS = {"minute": 1, "hour": 60, "day": 1440}
_QUARTER = 15  # every zone offset is a multiple of 15 minutes


def resolution_for(span_minutes: int) -> str:
    """Minute buckets up to 3 h, hours up to 3 days, days beyond."""
    if span_minutes <= 3 * 60:
        return "minute"
    return "hour" if span_minutes <= 3 * 1440 else "day"


def spend_series(
    engine: Engine, scope: SpendScope, resolution: str, zone: str
) -> list[SeriesPoint]:
    """Spend per bucket and agent; hours and days are cut in the org's zone `zone`."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    tz = ZoneInfo(zone)
    with engine.connect() as conn:
        parts = _series_parts(conn, scope, resolution, tz)
        sums = add_up(conn, parts, 3)
    starts: dict[int, datetime] = {}
    folded: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0])
    for (_, minute, agent), (calls, cost) in sums.items():
        start = starts.get(minute)
        if start is None:
            start = starts[minute] = _bucket_start(minute, resolution, tz)
        acc = folded[(start, agent)]
        acc[0] += calls
        acc[1] += cost
    return [SeriesPoint(t, a, v[0], v[1]) for (t, a), v in sorted(folded.items())]


def _series_parts(conn: Connection, scope: SpendScope, resolution: str, tz: ZoneInfo) -> list[Any]:
    """Range sums per (bucket start minute, agent), each bucket inside one local bucket.

    Whole UTC hours are read from the hour tier; an hour that a local hour/day boundary
    cuts (zones with :30 / :45 offsets) is read from minutes in 15-minute buckets.
    """
    measures = ("calls", "cost_nanousd")
    if resolution == "minute":
        return range_sums(conn, scope, ("agent",), measures, bucket_minutes=1)
    parts: list[Any] = []
    s, e = scope.start_minute, scope.end_minute
    run = s
    for hour in range(s // 60, -(-e // 60)):
        first, last = hour * 60, hour * 60 + 59
        if _bucket_start(first, resolution, tz) == _bucket_start(last, resolution, tz):
            continue
        lo, hi = max(first, s), min(first + 60, e)
        if run < lo:
            parts += range_sums(conn, scope.during(run, lo), ("agent",), measures, "", 60)
        parts += range_sums(conn, scope.during(lo, hi), ("agent",), measures, "", _QUARTER)
        run = hi
    if run < e or not parts:
        parts += range_sums(conn, scope.during(run, e), ("agent",), measures, "", 60)
    return parts


def _bucket_start(minute: int, resolution: str, tz: ZoneInfo) -> datetime:
    at = datetime.fromtimestamp(minute * 60, UTC)
    if resolution == "minute":
        return at
    local = at.astimezone(tz)
    local = local.replace(minute=0, second=0, microsecond=0)
    if resolution == "day":
        local = local.replace(hour=0)
    return local.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class GroupSpend:
    """Spend of one group (an agent, a user, ...) now and in the previous period."""

    dim: str
    key: str  # the agent/model name, or the workspace/user/key id as text
    name: str
    calls: int = 0
    unpriced_calls: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_nanousd: int = 0
    previous_nanousd: int = 0

    @property
    def delta_nanousd(self) -> int:
        """Change against the previous period."""
        return self.cost_nanousd - self.previous_nanousd


@dataclass
class Breakdown:
    """Spend per group for every breakdown dimension, costliest first."""

    groups: dict[str, list[GroupSpend]] = field(default_factory=dict)

    def movers(self, limit: int = 8) -> list[GroupSpend]:
        """The groups (of any dimension but key) whose spend changed most, either way."""
        rows = [g for d, gs in self.groups.items() if d != "key" for g in gs if g.delta_nanousd]
        return sorted(rows, key=lambda g: (-abs(g.delta_nanousd), g.dim, g.name))[:limit]


def breakdown(engine: Engine, scope: SpendScope, previous_start_minute: int) -> Breakdown:
    """Spend by agent, workspace, user, key and model over `scope`, with the spend of the
    same groups over [previous_start_minute, scope.start_minute) for comparison."""
    before = scope.during(previous_start_minute, scope.start_minute)
    with engine.connect() as conn:
        keys = 1 + len(_GROUP_COLUMNS)
        sums = add_up(conn, range_sums(conn, scope, _GROUP_COLUMNS, tag="now"), keys)
        sums |= add_up(conn, range_sums(conn, before, _GROUP_COLUMNS, ("cost_nanousd",), "b"), keys)
        names = _names(conn, sums)
    return _fold(sums, names)


def _fold(sums: Sums, names: dict[str, dict[int, str]]) -> Breakdown:
    """Joint groups (tag, workspace, user, key, agent, model) -> one list per dimension;
    the previous period's groups ('b') carry only their cost."""
    now: dict[tuple[str, Any], list[list[int]]] = defaultdict(list)
    before: dict[tuple[str, Any], int] = defaultdict(int)
    for (tag, *group), measures in sums.items():
        for dim, i in _DIM_INDEX.items():
            if tag == "now":
                now[(dim, group[i])].append(measures)
            else:
                before[(dim, group[i])] += measures[0]
    out = Breakdown({d: [] for d in BREAKDOWN_DIMENSIONS})
    for dim, value in now.keys() | before.keys():
        rows = now.get((dim, value))
        totals = [sum(col) for col in zip(*rows, strict=True)] if rows else [0] * _WIDTH
        previous = before.get((dim, value), 0)
        if not totals[0] and not previous:
            continue  # no calls now, nothing before: an unbilled aggregate's zero row
        key = str(value)
        label = names[dim].get(int(value), key) if dim in names else key
        out.groups[dim].append(GroupSpend(dim, key, label or "(none)", *[*totals, previous]))
    for gs in out.groups.values():
        gs.sort(key=lambda g: (-g.cost_nanousd, -g.previous_nanousd, g.name))
    return out


def _names(conn: Connection, sums: Sums) -> dict[str, dict[int, str]]:
    ids: dict[str, set[int]] = {"workspace": set(), "user": set(), "key": set()}
    for group in sums:
        for scope in ids:
            ids[scope].add(int(group[1 + _DIM_INDEX[scope]]))
    return {scope: subject_names(conn, scope, wanted) for scope, wanted in ids.items()}


@dataclass(frozen=True, slots=True)
class Dimensions:
    """What the filters offer: an org's workspaces and users, and the agents and models seen."""

    workspaces: dict[int, str]
    users: dict[int, str]
    keys: dict[int, str]
    agents: list[str]
    models: list[str]


def dimensions(engine: Engine, org_id: int, since_minute: int, end_minute: int) -> Dimensions:
    """Filter options; agents and models are those with spend in [since, end)."""
    scope = SpendScope(org_id, since_minute, end_minute)
    with engine.connect() as conn:
        pairs = [g[1:] for g in add_up(conn, range_sums(conn, scope, ("agent", "model"), ()), 3)]
        named: dict[str, dict[int, str]] = {}
        for scope_name, table, col in (
            ("workspace", WORKSPACES, "name"),
            ("user", USERS, "name"),
            ("key", KEYS, "prefix"),
        ):
            stmt = select(table.c.id, table.c[col]).where(table.c.org_id == org_id)
            named[scope_name] = {
                int(i): str(n) for i, n in conn.execute(stmt.order_by(table.c[col]))
            }
    return Dimensions(
        named["workspace"],
        named["user"],
        named["key"],
        sorted({a for a, _ in pairs if a}),
        sorted({m for _, m in pairs if m}),
    )


def latest_org(engine: Engine) -> int | None:
    """The org with the most recent spend (the UI opens on it); None for an empty store."""
    m = MINUTES.c
    with engine.connect() as conn:
        row = conn.execute(select(m.org_id).order_by(m.minute.desc()).limit(1)).first()
    return int(row[0]) if row else None
