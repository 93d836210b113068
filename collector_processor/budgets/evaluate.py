"""Which budgets count a call, and how much of each is left — the gateway's entry point.

For a call tuple (org, workspace, user, key, agent, model):

- every explicit budget whose scope matches (org; the workspace; the user; the key) and
  whose agent / model filter is empty or equal counts it;
- a default budget (scope_id 0) counts it unless an *active* explicit budget of the same
  (scope, window, agent, model) exists for that subject — the exception replaces the default;
- the most restrictive budget decides: the one with the least money left.

`hard_budgets_for(conn, call)` is what the gateway calls before forwarding a request: every
matching hard budget with its effective limit (base + approved, unexpired overrides), the
spend so far in its current window (from the per-minute rollups: always current at commit)
and the instant the window resets.  `applicable()` is the pure matching rule underneath.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from collector_processor.budgets.forecast import Forecast, forecast, recent_start_minute
from collector_processor.budgets.windows import BudgetWindow, window_at
from store.budgets import (
    SCOPE_COLUMNS,
    Budget,
    WindowSpend,
    load_budgets,
    load_overrides,
    window_spend,
    window_spend_hours,
)
from store.subjects import OrgInfo, org_by_id

_SECONDS_PER_MINUTE = 60


@dataclass(frozen=True, slots=True)
class CallScope:
    """The attribution of a (prospective) call: what budgets are matched against."""

    org_id: int
    workspace_id: int
    user_id: int
    key_id: int
    agent: str = ""
    model: str = ""

    def subject(self, scope: str) -> int:
        """This call's subject id in a budget scope ('user' -> user_id, ...)."""
        return int(getattr(self, SCOPE_COLUMNS[scope]))


@dataclass(frozen=True, slots=True)
class BudgetState:
    """One budget applied to one subject, in its current window."""

    budget: Budget
    subject_id: int
    window: BudgetWindow
    limit_nanousd: int  # effective: base limit + active overrides for this subject
    spent_nanousd: int
    recent_nanousd: int  # spend since `recent_start` (for the burn rate)
    recent_start: datetime
    now: datetime

    @property
    def remaining_nanousd(self) -> int:
        """Money left in the window (negative when over)."""
        return self.limit_nanousd - self.spent_nanousd

    @property
    def utilization(self) -> float:
        """spent / limit (display and gauges only; decisions use integers)."""
        return self.spent_nanousd / self.limit_nanousd if self.limit_nanousd else 0.0

    @property
    def exceeded(self) -> bool:
        """The limit is used up."""
        return self.spent_nanousd >= self.limit_nanousd

    @property
    def resets_at(self) -> datetime:
        """When the window ends and spend counts from zero again."""
        return self.window.end

    @property
    def forecast(self) -> Forecast:
        """Projected end-of-window spend at the recent burn rate."""
        return forecast(
            self.spent_nanousd,
            self.limit_nanousd,
            self.recent_nanousd,
            self.recent_start,
            self.now,
            self.window,
        )

    def crossed(self, pct: int) -> bool:
        """Spend has reached `pct` percent of the limit."""
        return self.spent_nanousd * 100 >= pct * self.limit_nanousd


def _filters_match(b: Budget, call: CallScope) -> bool:
    return (not b.agent or b.agent == call.agent) and (not b.model or b.model == call.model)


def applicable(
    budgets: Sequence[Budget], call: CallScope, now: datetime
) -> list[tuple[Budget, int]]:
    """Budgets that count `call`, each with the subject id it applies to (pure)."""
    live = [
        b for b in budgets if b.org_id == call.org_id and b.active(now) and _filters_match(b, call)
    ]
    explicit = [b for b in live if not b.is_default and b.scope_id == call.subject(b.scope)]
    covered = {b.target for b in explicit}
    defaults = [b for b in live if b.is_default and b.target not in covered]
    return [(b, call.subject(b.scope)) for b in explicit + defaults]


def states_for(
    conn: Connection,
    org: OrgInfo,
    pairs: Sequence[tuple[Budget, int]],
    now: datetime,
) -> list[BudgetState]:
    """Current-window state of each (budget, subject): one rollup query per budget."""
    by_budget: dict[int, list[int]] = defaultdict(list)
    budgets = {b.id: b for b, _ in pairs}
    for b, subject in pairs:
        by_budget[b.id].append(subject)
    raises = _raises(conn, budgets, now)
    out = []
    for bid, subjects in by_budget.items():
        out += _budget_states(conn, org, budgets[bid], subjects, raises, now)
    return out


def _raises(
    conn: Connection, budget_ids: Iterable[int], now: datetime
) -> dict[tuple[int, int], int]:
    """Sum of the overrides in force per (budget, subject)."""
    raises: dict[tuple[int, int], int] = defaultdict(int)
    for o in load_overrides(conn, budget_ids, now):
        raises[(o.budget_id, o.subject_id)] += o.amount_nanousd
    return raises


def _budget_states(
    conn: Connection,
    org: OrgInfo,
    b: Budget,
    subjects: Sequence[int] | None,
    raises: dict[tuple[int, int], int],
    now: datetime,
    skip: Container[int] = (),
) -> list[BudgetState]:
    """States of one budget for `subjects` (None: every subject with spend, less `skip`)."""
    window = window_at(b.window, now, org.timezone)
    recent_min = recent_start_minute(window, now)
    recent_start = datetime.fromtimestamp(recent_min * _SECONDS_PER_MINUTE, UTC)
    spend = window_spend(conn, b, subjects, window.start_minute, window.end_minute, recent_min)
    wanted = subjects if subjects is not None else [s for s in sorted(spend) if s not in skip]
    out = []
    for s in wanted:
        ws = spend.get(s)
        limit = b.limit_nanousd + raises[(b.id, s)]
        spent, recent = (ws.spent_nanousd, ws.recent_nanousd) if ws else (0, 0)
        out.append(BudgetState(b, s, window, limit, spent, recent, recent_start, now))
    return out


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """Every budget state that applies to a call; the most restrictive one decides."""

    states: tuple[BudgetState, ...]

    @property
    def most_restrictive(self) -> BudgetState | None:
        """The state with the least money left (ties: the one that resets last)."""
        if not self.states:
            return None
        return min(self.states, key=lambda s: (s.remaining_nanousd, -s.resets_at.timestamp()))

    @property
    def blocked(self) -> bool:
        """A hard budget is used up: the gateway refuses the call."""
        return any(s.exceeded for s in self.states if s.budget.mode == "hard")


def check_call(
    conn: Connection,
    call: CallScope,
    now: datetime | None = None,
    *,
    hard_only: bool = False,
) -> BudgetCheck:
    """Evaluate every budget that applies to `call` against its current window."""
    now = now or datetime.now(UTC)
    budgets = [b for b in load_budgets(conn, call.org_id) if not hard_only or b.mode == "hard"]
    pairs = applicable(budgets, call, now)
    if not pairs:
        return BudgetCheck(())
    return BudgetCheck(tuple(states_for(conn, org_by_id(conn, call.org_id), pairs, now)))


def hard_budgets_for(
    conn: Connection, call: CallScope, now: datetime | None = None
) -> list[BudgetState]:
    """Every hard budget matching `call`: limit, spent this window, and `resets_at`."""
    return list(check_call(conn, call, now, hard_only=True).states)


def status_states(
    conn: Connection, org: OrgInfo, now: datetime, only: Sequence[int] | None = None
) -> list[BudgetState]:
    """States for a status listing: explicit budgets always; defaults per subject with spend.

    `only` limits the listing to these budget ids (exceptions still hide their subjects
    from the defaults they replace).  One rollup query per (scope, window, agent, model)
    shared by the budgets listed, over whole hours plus ragged minutes.
    """
    live = [b for b in load_budgets(conn, org.id) if b.active(now)]
    shown = [b for b in live if only is None or b.id in only]
    raises = _raises(conn, [b.id for b in shown], now)
    spends = _target_spends(conn, org, shown, now)
    out = [_listed(b, b.scope_id, spends[b.target], raises, now) for b in shown if not b.is_default]
    for b in (b for b in shown if b.is_default):
        own = {x.scope_id for x in live if not x.is_default and x.target == b.target}
        with_spend = sorted(spends[b.target][2].keys() - own)
        out += [_listed(b, s, spends[b.target], raises, now) for s in with_spend]
    return out


_TargetSpend = tuple[BudgetWindow, int, dict[int, WindowSpend]]  # window, recent minute, sums


def _target_spends(
    conn: Connection, org: OrgInfo, budgets: Sequence[Budget], now: datetime
) -> dict[tuple[str, str, str, str], _TargetSpend]:
    """Current-window spend per subject of each target the budgets share (one query each);
    every subject with spend when a default is among them, else only theirs."""
    by_target: dict[tuple[str, str, str, str], list[Budget]] = defaultdict(list)
    for b in budgets:
        by_target[b.target].append(b)
    out = {}
    for target, group in by_target.items():
        window = window_at(group[0].window, now, org.timezone)
        recent = recent_start_minute(window, now)
        subjects = None if any(b.is_default for b in group) else [b.scope_id for b in group]
        spend = window_spend_hours(
            conn, group[0], subjects, window.start_minute, window.end_minute, recent
        )
        out[target] = (window, recent, spend)
    return out


def _listed(
    b: Budget,
    subject: int,
    spend: _TargetSpend,
    raises: dict[tuple[int, int], int],
    now: datetime,
) -> BudgetState:
    window, recent_minute, sums = spend
    ws = sums.get(subject, WindowSpend(0, 0))
    recent_start = datetime.fromtimestamp(recent_minute * _SECONDS_PER_MINUTE, UTC)
    limit = b.limit_nanousd + raises[(b.id, subject)]
    return BudgetState(
        b, subject, window, limit, ws.spent_nanousd, ws.recent_nanousd, recent_start, now
    )
