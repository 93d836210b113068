"""Budgets and their overrides in the store: load, set (upsert), delete, window sums.

A budget with scope_id 0 is a *default*: it applies to every subject of its scope (every
user, key or workspace, present and future) that has no explicit budget of its own with the
same window, agent and model.  Explicit budgets are the *exceptions*; one with `until` set
stops applying then, and the default takes over again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, case, delete, func, insert, select, update

from store.audit import entity_path, record
from store.rollup_ranges import SpendScope, add_up, range_sums
from store.tables import SpendMinute, utcnow
from store.tables_budgets import BudgetOverrideRow, BudgetRow

BUDGETS: Table = BudgetRow.__table__  # type: ignore[attr-defined]
OVERRIDES: Table = BudgetOverrideRow.__table__  # type: ignore[attr-defined]
ROLLUP: Table = SpendMinute.__table__  # type: ignore[attr-defined]

SCOPES = ("org", "workspace", "user", "key")
# The spend_minutes column that identifies a subject of each scope.
SCOPE_COLUMNS = {"org": "org_id", "workspace": "workspace_id", "user": "user_id", "key": "key_id"}
MODES = ("hard", "soft")
DEFAULT_THRESHOLDS = (50, 80, 100)


@dataclass(frozen=True, slots=True)
class Budget:
    """A limit on spend of one scope (optionally one agent / model) per calendar window."""

    id: int
    org_id: int
    scope: str
    scope_id: int  # 0: the default for every subject of `scope`
    agent: str
    model: str
    window: str
    limit_nanousd: int
    mode: str
    thresholds: tuple[int, ...]
    until: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def is_default(self) -> bool:
        """True for a default budget (applies to every subject without an exception)."""
        return self.scope_id == 0

    @property
    def target(self) -> tuple[str, str, str, str]:
        """What a default and its exceptions share: (scope, window, agent, model)."""
        return (self.scope, self.window, self.agent, self.model)

    def active(self, now: datetime) -> bool:
        """An exception with `until` in the past no longer applies."""
        return self.until is None or now < self.until

    def as_json(self) -> dict[str, Any]:
        """Plain values for audit rows and --json output."""
        out = asdict(self)
        out["thresholds"] = list(self.thresholds)
        return out


@dataclass(frozen=True, slots=True)
class BudgetOverride:
    """An approved, additive and expiring raise of a budget for one subject."""

    budget_id: int
    subject_id: int
    request_id: int
    amount_nanousd: int
    until: datetime


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    """What `budgets set` / `budgets default` asks for (validated)."""

    org_id: int
    scope: str
    scope_id: int
    window: str
    limit_nanousd: int
    agent: str = ""
    model: str = ""
    mode: str = "soft"
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"unknown scope {self.scope!r}; use one of {', '.join(SCOPES)}")
        if self.mode not in MODES:
            raise ValueError(f"mode must be hard or soft, got {self.mode!r}")
        if self.limit_nanousd <= 0:
            raise ValueError("a budget limit must be positive")
        if not self.thresholds or any(not 0 < t <= 1000 for t in self.thresholds):
            raise ValueError("thresholds are percentages between 1 and 1000")
        if self.scope == "org" and self.scope_id == 0:
            raise ValueError("an org budget names its org; defaults are for workspace/user/key")


def parse_thresholds(text: str) -> tuple[int, ...]:
    """'50,80,100' -> (50, 80, 100), sorted and deduplicated; ValueError on nonsense."""
    try:
        values = sorted({int(p.strip().rstrip("%")) for p in text.split(",") if p.strip()})
    except ValueError:
        raise ValueError(
            f"thresholds must be whole percentages like 50,80,100; got {text!r}"
        ) from None
    if not values or values[0] <= 0 or values[-1] > 1000:
        raise ValueError(f"thresholds must be percentages between 1 and 1000; got {text!r}")
    return tuple(values)


def _budget(row: Any) -> Budget:
    return Budget(
        row.id,
        row.org_id,
        row.scope,
        row.scope_id,
        row.agent,
        row.model,
        row.window,
        int(row.limit_nanousd),
        row.mode,
        parse_thresholds(row.thresholds),
        row.until,
        row.created_by,
        row.created_at,
        row.updated_at,
    )


def load_budgets(conn: Connection, org_id: int | None = None) -> list[Budget]:
    """Every budget (of one org), oldest first."""
    stmt = select(BUDGETS).order_by(BUDGETS.c.id)
    if org_id is not None:
        stmt = stmt.where(BUDGETS.c.org_id == org_id)
    return [_budget(r) for r in conn.execute(stmt)]


def get_budget(conn: Connection, budget_id: int) -> Budget | None:
    """The budget with this id, or None."""
    row = conn.execute(select(BUDGETS).where(BUDGETS.c.id == budget_id)).first()
    return _budget(row) if row is not None else None


def load_overrides(
    conn: Connection, budget_ids: Iterable[int], now: datetime
) -> list[BudgetOverride]:
    """Overrides of these budgets still in force at `now`."""
    ids = list(budget_ids)
    if not ids:
        return []
    o = OVERRIDES.c
    stmt = select(o.budget_id, o.subject_id, o.request_id, o.amount_nanousd, o.until).where(
        o.budget_id.in_(ids), o.until > now
    )
    return [BudgetOverride(r[0], r[1], r[2], int(r[3]), r[4]) for r in conn.execute(stmt)]


def set_budget(conn: Connection, spec: BudgetSpec, actor: str, org: str) -> tuple[Budget, bool]:
    """Create or update the budget for spec's target; audited.  Returns (budget, created)."""
    b = BUDGETS.c
    key = and_(
        b.org_id == spec.org_id,
        b.scope == spec.scope,
        b.scope_id == spec.scope_id,
        b.agent == spec.agent,
        b.model == spec.model,
        b.window == spec.window,
    )
    values = {
        "limit_nanousd": spec.limit_nanousd,
        "mode": spec.mode,
        "thresholds": ",".join(str(t) for t in spec.thresholds),
        "until": spec.until,
        "updated_at": utcnow(),
    }
    existing = conn.execute(select(BUDGETS).where(key)).first()
    if existing is None:
        ident = {k: getattr(spec, k) for k in ("org_id", "scope", "scope_id", "agent", "model")}
        new_id = conn.execute(
            insert(BUDGETS)
            .values(**ident, window=spec.window, created_by=actor, created_at=utcnow(), **values)
            .returning(b.id)
        ).scalar_one()
        before = None
    else:
        new_id = existing.id
        before = _budget(existing).as_json()
        conn.execute(update(BUDGETS).where(b.id == new_id).values(**values))
    after = get_budget(conn, new_id)
    assert after is not None
    action = "budget.create" if before is None else "budget.update"
    record(conn, actor, action, entity_path(org, "budget", new_id), before, after.as_json())
    return after, before is None


def delete_budget(conn: Connection, budget: Budget, actor: str, org: str) -> None:
    """Delete a budget and its overrides; audited."""
    conn.execute(delete(OVERRIDES).where(OVERRIDES.c.budget_id == budget.id))
    conn.execute(delete(BUDGETS).where(BUDGETS.c.id == budget.id))
    record(
        conn, actor, "budget.delete", entity_path(org, "budget", budget.id), budget.as_json(), None
    )


@dataclass(frozen=True, slots=True)
class WindowSpend:
    """Spend of one subject inside a window, and the part of it after `recent_minute`."""

    spent_nanousd: int
    recent_nanousd: int


def window_spend(
    conn: Connection,
    budget: Budget,
    subject_ids: Sequence[int] | None,
    start_minute: int,
    end_minute: int,
    recent_minute: int,
) -> dict[int, WindowSpend]:
    """Sum billed spend per subject of `budget` over [start, end) minutes, one query.

    `subject_ids` None means every subject with spend (used to list a default's subjects).
    """
    r = ROLLUP.c
    col = r[SCOPE_COLUMNS[budget.scope]]
    recent = func.sum(case((r.minute >= recent_minute, r.cost_nanousd), else_=0))
    stmt = (
        select(col, func.sum(r.cost_nanousd), recent)
        .where(r.org_id == budget.org_id, r.minute >= start_minute, r.minute < end_minute)
        .group_by(col)
    )
    if subject_ids is not None:
        stmt = stmt.where(col.in_(list(subject_ids)))
    if budget.agent:
        stmt = stmt.where(r.agent == budget.agent)
    if budget.model:
        stmt = stmt.where(r.model == budget.model)
    return {
        int(row[0]): WindowSpend(int(row[1] or 0), int(row[2] or 0)) for row in conn.execute(stmt)
    }


def window_spend_hours(
    conn: Connection,
    budget: Budget,
    subject_ids: Sequence[int] | None,
    start_minute: int,
    end_minute: int,
    recent_minute: int,
) -> dict[int, WindowSpend]:
    """`window_spend`'s sums, read as whole hours plus ragged minutes (store.rollup_ranges):
    the same numbers from ~1/10 of the rows on SQLite, for listings of every budget."""
    col = SCOPE_COLUMNS[budget.scope]
    by = () if budget.scope == "org" else (col,)  # the org is already the scope's filter
    ids = tuple(subject_ids) if subject_ids is not None else ()
    scope = SpendScope(
        budget.org_id,
        start_minute,
        end_minute,
        agents=(budget.agent,) if budget.agent else (),
        models=(budget.model,) if budget.model else (),
        **({f"{col}s": ids} if by and ids else {}),
    )
    recent = min(max(recent_minute, start_minute), end_minute)
    cost = ("cost_nanousd",)
    parts = range_sums(conn, scope.during(start_minute, recent), by, cost, "early")
    parts += range_sums(conn, scope.during(recent, end_minute), by, cost, "recent")
    out: dict[int, list[int]] = {}
    for (tag, *subject), (spent,) in add_up(conn, parts, 1 + len(by)).items():
        acc = out.setdefault(int(subject[0]) if by else budget.org_id, [0, 0])
        acc[0] += spent
        acc[1] += spent if tag == "recent" else 0
    wanted = set(ids) if subject_ids is not None else out.keys()
    return {s: WindowSpend(*v) for s, v in out.items() if s in wanted}


def org_limits(conn: Connection, org_id: int, now: datetime) -> dict[str, int]:
    """Effective limit (base + raises in force) of each org-wide budget on all of the org's
    spend (no agent or model filter) in force at `now`, by window kind."""
    budgets = [
        b
        for b in load_budgets(conn, org_id)
        if b.scope == "org" and not b.agent and not b.model and b.active(now)
    ]
    raises = load_overrides(conn, [b.id for b in budgets], now)
    return {
        b.window: b.limit_nanousd
        + sum(o.amount_nanousd for o in raises if (o.budget_id, o.subject_id) == (b.id, b.scope_id))
        for b in budgets
    }
