"""Reconciliation reads: billed and captured spend per UTC day, uncaptured spend, bypass.

Days here are UTC days, whatever the org's time zone: the providers' reports bucket by UTC
day, and only like buckets can be compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from store.reconcile import LINES, MAPPINGS, WORKSPACES
from store.tables import LlmCallRow, User

CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
USERS = User.__table__  # type: ignore[attr-defined]
NS_PER_DAY = 86_400 * 1_000_000_000
_NS_PER_MINUTE = 60_000_000_000
_MINUTES_PER_DAY = 1440
_TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
BILLING_KINDS = ("cost", "csv")  # kinds whose lines carry the billed amount
CLI_DIALECTS = ("claude_code", "codex", "gemini_cli")
GATEWAY_DIALECT = "gateway"
UNASSIGNED = "unassigned"  # lines naming no provider workspace/project (Anthropic's default)


@dataclass(slots=True)
class BilledSum:
    """Provider-reported spend of one (UTC day, provider, workspace, model)."""

    day: str
    provider: str
    workspace: str  # otelspend workspace name, or "unmapped:<provider>:<external id>"
    model: str
    cost_nanousd: int | None = None
    tokens: tuple[int, int, int, int] | None = None  # input, cache read, cache write, output
    class_costs: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CapturedSum:
    """Billed spend otelspend captured for one (UTC day, provider, workspace, model)."""

    day: str
    provider: str
    workspace: str
    model: str
    cost_nanousd: int
    tokens: tuple[int, int, int, int]
    calls: int
    unpriced_calls: int


def utc_day(ns: int) -> str:
    """The UTC date (YYYY-MM-DD) of an instant."""
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).date().isoformat()


def day_floor(ns: int) -> int:
    """Start of the UTC day holding `ns`."""
    return ns - ns % NS_PER_DAY


Resolved = dict[tuple[str, str, str], tuple[int, str]]


def _mappings(conn: Any, org_id: int) -> Resolved:
    """(provider, kind, external id) → (workspace id, workspace name); ("", "name", n) too."""
    m = MAPPINGS.c
    stmt = (
        select(m.provider, m.kind, m.external_id, WORKSPACES.c.id, WORKSPACES.c.name)
        .select_from(MAPPINGS.join(WORKSPACES, WORKSPACES.c.id == m.workspace_id))
        .where(m.org_id == org_id)
    )
    maps = {(r[0], r[1], r[2]): (r[3], r[4]) for r in conn.execute(stmt)}
    names = select(WORKSPACES.c.id, WORKSPACES.c.name).where(WORKSPACES.c.org_id == org_id)
    maps.update({("", "name", name): (ws_id, name) for ws_id, name in conn.execute(names)})
    return maps


def _workspace_of(maps: Resolved, line: Any) -> tuple[int, str]:
    """API-key mapping first (most specific), then workspace/project mapping, then a
    workspace of that very name (a CSV may name otelspend workspaces), else unmapped (id 0)."""
    provider, external = line.provider, line.external_workspace
    if line.external_api_key:
        hit = maps.get((provider, "api_key", line.external_api_key))
        if hit:
            return hit
    hit = maps.get((provider, "workspace", external)) or maps.get(("", "name", external))
    return hit or (0, f"unmapped:{provider}:{external or UNASSIGNED}")


def _lines(engine: Engine, org_id: int, since_ns: int, until_ns: int, kinds: Sequence[str]) -> Any:
    """Lines overlapping [since, until), with each one's mapped workspace."""
    b = LINES.c
    stmt = select(LINES).where(
        b.org_id == org_id,
        b.kind.in_(kinds),
        b.bucket_start_ns < until_ns,
        b.bucket_end_ns > since_ns,
    )
    with engine.connect() as conn:
        maps = _mappings(conn, org_id)
        return [(line, _workspace_of(maps, line)) for line in conn.execute(stmt)]


def billed_sums(engine: Engine, org_id: int, since_ns: int, until_ns: int) -> list[BilledSum]:
    """Provider-reported cost and tokens per (UTC day, provider, workspace, model)."""
    sums: dict[tuple[str, str, str, str], BilledSum] = {}
    for line, (_, workspace) in _lines(
        engine, org_id, since_ns, until_ns, ("cost", "usage", "csv")
    ):
        key = (utc_day(line.bucket_start_ns), line.provider, workspace, line.model)
        acc = sums.get(key) or sums.setdefault(key, BilledSum(*key))
        if line.kind in BILLING_KINDS and line.cost_nanousd is not None:
            acc.cost_nanousd = (acc.cost_nanousd or 0) + line.cost_nanousd
            if line.token_class:
                acc.class_costs[line.token_class] = (
                    acc.class_costs.get(line.token_class, 0) + line.cost_nanousd
                )
        counts = [getattr(line, c) for c in _TOKEN_COLUMNS]
        if line.kind != "cost" and any(n is not None for n in counts):
            held = acc.tokens or (0, 0, 0, 0)
            acc.tokens = tuple(a + (n or 0) for a, n in zip(held, counts, strict=True))  # type: ignore[assignment]
    return sorted(sums.values(), key=lambda s: (s.day, s.provider, s.workspace, s.model))


def captured_sums(engine: Engine, org_id: int, since_ns: int, until_ns: int) -> list[CapturedSum]:
    """Billed calls otelspend captured per (UTC day, provider, workspace, model)."""
    c = CALLS.c
    day = c.minute // _MINUTES_PER_DAY
    stmt = (
        select(
            day,
            c.provider,
            WORKSPACES.c.name,
            c.model,
            func.sum(c.cost_nanousd),
            *(func.sum(c[t]) for t in _TOKEN_COLUMNS),
            func.count(),
            func.sum(case((c.cost_nanousd.is_(None), 1), else_=0)),
        )
        .select_from(CALLS.join(WORKSPACES, WORKSPACES.c.id == c.workspace_id))
        .where(c.org_id == org_id, c.billed.is_(True))
        .where(c.minute >= since_ns // _NS_PER_MINUTE, c.minute < -(-until_ns // _NS_PER_MINUTE))
        .group_by(day, c.provider, WORKSPACES.c.name, c.model)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        CapturedSum(
            utc_day(int(r[0]) * NS_PER_DAY), r[1], r[2], r[3], int(r[4] or 0),
            (int(r[5] or 0), int(r[6] or 0), int(r[7] or 0), int(r[8] or 0)),
            int(r[9]), int(r[10] or 0),
        )
        for r in rows
    ]  # fmt: skip


def _captured_cost_by_day(
    engine: Engine, org_id: int, workspace_id: int | None, days: set[int]
) -> dict[tuple[int, str], int]:
    """Captured billed cost per (day index, provider) over whole UTC days."""
    if not days:
        return {}
    c = CALLS.c
    day = c.minute // _MINUTES_PER_DAY
    lo, hi = min(days) * _MINUTES_PER_DAY, (max(days) + 1) * _MINUTES_PER_DAY
    where = and_(c.org_id == org_id, c.billed.is_(True), c.minute >= lo, c.minute < hi)
    if workspace_id is not None:
        where = and_(where, c.workspace_id == workspace_id)
    stmt = select(day, c.provider, func.sum(c.cost_nanousd)).where(where).group_by(day, c.provider)
    with engine.connect() as conn:
        return {(int(d), p): int(v or 0) for d, p, v in conn.execute(stmt)}


def uncaptured_spend(
    engine: Engine, org_id: int, workspace_id: int | None, since_ns: int, until_ns: int
) -> int:
    """Provider-billed spend otelspend did not capture in [since, until), in nano-USD (>= 0).

    For the budgets engine: add it to an org's (workspace_id None) or a workspace's window
    spend as a separate "uncaptured" line when count_uncaptured_in_budgets() is on.  Per UTC
    day and provider: max(0, billed - captured), where billed counts the imported cost lines
    (of the lines mapped to the workspace, for a workspace) and captured the billed calls of
    the same day (and workspace).  A day only partly inside the window counts pro rata.  An
    over-captured day never offsets another.  Cost: one indexed read of the lines and one
    grouped read of the window's calls; call it when budgets are evaluated, not per call.
    """
    if until_ns <= since_ns:
        return 0
    billed: dict[tuple[int, str], int] = defaultdict(int)  # (UTC day index, provider)
    for line, (ws_id, _) in _lines(engine, org_id, since_ns, until_ns, BILLING_KINDS):
        if line.cost_nanousd is None or (workspace_id is not None and ws_id != workspace_id):
            continue
        billed[(line.bucket_start_ns // NS_PER_DAY, line.provider)] += line.cost_nanousd
    captured = _captured_cost_by_day(engine, org_id, workspace_id, {d for d, _ in billed})
    total = 0
    for (day, provider), cost in billed.items():
        missing = max(0, cost - captured.get((day, provider), 0))
        start = day * NS_PER_DAY
        overlap = min(start + NS_PER_DAY, until_ns) - max(start, since_ns)
        total += missing * max(0, overlap) // NS_PER_DAY
    return total


@dataclass(frozen=True, slots=True)
class BypassRow:
    """One user's CLI-reported spend against what the gateway saw (nano-USD)."""

    user: str
    telemetry_nanousd: int
    gateway_nanousd: int
    telemetry_calls: int
    gateway_calls: int

    @property
    def bypass_nanousd(self) -> int:
        """CLI-reported spend the gateway did not see (>= 0)."""
        return max(0, self.telemetry_nanousd - self.gateway_nanousd)


def gateway_bypass(
    engine: Engine,
    org_id: int,
    since_ns: int,
    until_ns: int,
    telemetry_dialects: Sequence[str] = CLI_DIALECTS,
) -> list[BypassRow]:
    """Per user: spend the CLIs' own telemetry reports vs spend the gateway captured.

    A user whose CLI reports more than the gateway saw sends traffic around the gateway.
    A CLI record stored as a duplicate of another channel's call (the gateway's record of
    the same call, or the CLI's other signal) still says the CLI reported that call; each
    call group counts once.  Largest bypass first.
    """
    c = CALLS.c
    cost = func.coalesce(c.cost_nanousd, 0)
    window = (
        c.org_id == org_id,
        c.minute >= since_ns // _NS_PER_MINUTE,
        c.minute < until_ns // _NS_PER_MINUTE,
    )
    group = case((c.duplicate_of == "", c.call_id), else_=c.duplicate_of)
    reported = (
        select(c.user_id.label("user_id"), func.max(cost).label("cost"))
        .where(*window, c.dialect.in_(telemetry_dialects))
        .where(or_(c.billed.is_(True), c.duplicate_of != ""))
        .group_by(c.user_id, group)
        .subquery()
    )
    r = reported.c
    cli = select(r.user_id, func.sum(r.cost), func.count()).group_by(r.user_id)
    gateway = (
        select(c.user_id, func.sum(cost), func.count())
        .where(*window, c.dialect == GATEWAY_DIALECT)
        .group_by(c.user_id)
    )
    totals: dict[int, list[int]] = {}
    with engine.connect() as conn:
        for offset, stmt in ((0, cli), (1, gateway)):
            for uid, dollars, calls in conn.execute(stmt):
                row = totals.setdefault(int(uid), [0, 0, 0, 0])
                row[offset], row[2 + offset] = int(dollars or 0), int(calls)
        who = select(USERS.c.id, USERS.c.name).where(USERS.c.id.in_(list(totals)))
        names = {int(uid): str(name) for uid, name in conn.execute(who)}
    rows = [BypassRow(names[uid], *vals) for uid, vals in totals.items()]
    return sorted(rows, key=lambda r: (-r.bypass_nanousd, -r.telemetry_nanousd, r.user))
