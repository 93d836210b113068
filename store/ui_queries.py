"""Read queries behind the UI's Overview: window totals, spend over time, breakdowns, movers.

Everything comes from the rollups.  On SQLite a range is summed as whole hours from
`spend_hours` plus the ragged minutes at its two ends from `spend_minutes` — exact to the
minute, ~10x fewer rows than minutes alone; on PostgreSQL from `spend_minutes` (see
store.tables_ui).  Each function is one or two index range scans; none reads raw calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Select, Table, func, literal, select, union_all

from store.subjects import KEYS, USERS, WORKSPACES, subject_names
from store.tables import ROLLUP_MEASURES, SpendMinute
from store.tables_ui import SpendHour

MINUTES: Table = SpendMinute.__table__  # type: ignore[attr-defined]
HOURS: Table = SpendHour.__table__  # type: ignore[attr-defined]
BREAKDOWN_DIMENSIONS = ("agent", "workspace", "user", "key", "model")
_DIM_COLUMNS = {
    "workspace": "workspace_id",
    "user": "user_id",
    "key": "key_id",
    "agent": "agent",
    "model": "model",
}
_MINUTES_PER_HOUR = 60


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


def _hour_tier(conn: Connection) -> bool:
    """spend_hours is kept (by triggers) on SQLite only."""
    return conn.dialect.name == "sqlite"


def rollup_rows(conn: Connection, scope: SpendScope, tag: str = "") -> list[Select[Any]]:
    """SELECTs of rows (minute, dims, measures, tag) whose sums are exactly the spend of
    `scope`: UNION ALL them (several calls' parts may go into one union)."""
    cols = ("workspace_id", "user_id", "key_id", "agent", "model", *ROLLUP_MEASURES)
    s, e = scope.start_minute, scope.end_minute
    m = MINUTES.c
    first_hour, end_hour = -(-s // _MINUTES_PER_HOUR), e // _MINUTES_PER_HOUR
    if not _hour_tier(conn) or first_hour >= end_hour:
        stmt = select(m.minute.label("minute"), *(m[c] for c in cols), literal(tag).label("tag"))
        return [_filtered(stmt.where(m.minute >= s, m.minute < e), MINUTES, scope)]
    h = HOURS.c
    hours = select(
        (h.hour * _MINUTES_PER_HOUR).label("minute"),
        *(h[c] for c in cols),
        literal(tag).label("tag"),
    ).where(h.hour >= first_hour, h.hour < end_hour)
    out = [_filtered(hours, HOURS, scope)]
    # Two separate ranges, not one OR: each stays an index range scan.
    for lo, hi in ((s, first_hour * _MINUTES_PER_HOUR), (end_hour * _MINUTES_PER_HOUR, e)):
        if lo < hi:
            edge = select(m.minute, *(m[c] for c in cols), literal(tag).label("tag"))
            out.append(_filtered(edge.where(m.minute >= lo, m.minute < hi), MINUTES, scope))
    return out


def window_totals(
    engine: Engine, scope: SpendScope, windows: dict[str, tuple[int, int]]
) -> dict[str, int]:
    """Billed nano-USD in each named [start, end) minute range (filters of `scope` apply)."""
    out = dict.fromkeys(windows, 0)
    with engine.connect() as conn:
        parts = [
            part
            for name, (s, e) in windows.items()
            for part in rollup_rows(conn, scope.during(s, e), name)
        ]
        if not parts:
            return out
        rows = union_all(*parts).subquery()
        stmt = select(rows.c.tag, func.sum(rows.c.cost_nanousd)).group_by(rows.c.tag)
        for name, cost in conn.execute(stmt):
            out[name] = int(cost or 0)
    return out


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Spend of one agent in one time bucket (bucket start as an aware UTC datetime)."""

    start: datetime
    agent: str
    calls: int
    cost_nanousd: int


RESOLUTIONS = {"minute": 1, "hour": 60, "day": 1440}


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
    # Fetch 15-minute buckets at most (every zone offset is a multiple of 15 min), then
    # fold them into local hours/days here: a few thousand rows, DST handled by zoneinfo.
    step = 1 if resolution == "minute" else 15
    with engine.connect() as conn:
        rows = union_all(*rollup_rows(conn, scope)).subquery()
        bucket = (rows.c.minute // step) if step > 1 else rows.c.minute
        stmt = select(
            bucket, rows.c.agent, func.sum(rows.c.calls), func.sum(rows.c.cost_nanousd)
        ).group_by(bucket, rows.c.agent)
        fetched = [
            (int(b) * step, a, int(n or 0), int(c or 0)) for b, a, n, c in conn.execute(stmt)
        ]
    tz = ZoneInfo(zone)
    folded: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0])
    for minute, agent, calls, cost in fetched:
        acc = folded[(_bucket_start(minute, resolution, tz), agent)]
        acc[0] += calls
        acc[1] += cost
    return [SeriesPoint(t, a, v[0], v[1]) for (t, a), v in sorted(folded.items())]


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
    dims = ("workspace_id", "user_id", "key_id", "agent", "model")
    with engine.connect() as conn:
        now = rollup_rows(conn, scope, "now")
        before = rollup_rows(
            conn, scope.during(previous_start_minute, scope.start_minute), "before"
        )
        rows = union_all(*now, *before).subquery()
        stmt = select(
            rows.c.tag,
            *(rows.c[d] for d in dims),
            *(func.sum(rows.c[m]) for m in ROLLUP_MEASURES),
        ).group_by(rows.c.tag, *(rows.c[d] for d in dims))
        fetched = list(conn.execute(stmt))
        names = _names(conn, fetched)
    return _fold(fetched, names)


def _fold(fetched: Sequence[Any], names: dict[str, dict[int, str]]) -> Breakdown:
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (len(ROLLUP_MEASURES) + 1))
    for row in fetched:
        tag, ws, user, key, agent, model = row[:6]
        measures = [int(v or 0) for v in row[6:]]
        for dim, value in zip(BREAKDOWN_DIMENSIONS, (agent, ws, user, key, model), strict=True):
            a = acc[(dim, str(value))]
            if tag == "now":
                for i, v in enumerate(measures):
                    a[i] += v
            else:
                a[-1] += measures[-1]
    out = Breakdown({d: [] for d in BREAKDOWN_DIMENSIONS})
    for (dim, key), a in acc.items():
        if not a[0] and not a[-1]:
            continue  # no calls now, nothing before: an unbilled aggregate's zero row
        label = names.get(dim, {}).get(int(key), key) if dim in names else key
        out.groups[dim].append(GroupSpend(dim, key, label or "(none)", *a))
    for gs in out.groups.values():
        gs.sort(key=lambda g: (-g.cost_nanousd, -g.previous_nanousd, g.name))
    return out


def _names(conn: Connection, fetched: Sequence[Any]) -> dict[str, dict[int, str]]:
    ids: dict[str, set[int]] = {"workspace": set(), "user": set(), "key": set()}
    for row in fetched:
        ids["workspace"].add(int(row[1]))
        ids["user"].add(int(row[2]))
        ids["key"].add(int(row[3]))
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
        rows = union_all(*rollup_rows(conn, scope)).subquery()
        pairs = list(conn.execute(select(rows.c.agent, rows.c.model).distinct()))
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
