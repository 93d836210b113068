"""How budgets and their states are shown: one text line or one JSON object each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from collector_processor.budgets.alerts import local_time
from collector_processor.budgets.evaluate import BudgetState
from collector_processor.budgets.forecast import can_project
from otelspend.money import usd_str
from store.budgets import Budget
from store.members import Actor
from store.subjects import keys_of_user, names_by_scope

STATUS_HEADER = (
    f"{'id':>4} {'subject':<26} {'filter':<22} {'window':<6} {'spent':>11} {'limit':>11} "
    f"{'%':>6} {'resets':<22} {'projected':>11} status"
)


def names_for(
    conn: Connection, budgets: Sequence[Budget], extra: Sequence[BudgetState] = ()
) -> dict[tuple[str, int], str]:
    """Display names of every subject the budgets and states refer to."""
    pairs = [(b.scope, b.scope_id) for b in budgets if not b.is_default]
    return names_by_scope(conn, pairs + [(s.budget.scope, s.subject_id) for s in extra])


def target(b: Budget, names: dict[tuple[str, int], str]) -> str:
    """'user:alice', 'user:* (default)', 'org:acme'."""
    if b.is_default:
        return f"{b.scope}:* (default)"
    return f"{b.scope}:{names.get((b.scope, b.scope_id), b.scope_id)}"


def filters(b: Budget) -> str:
    """'agent=claude-code', 'model=gpt-5', or 'any'."""
    parts = [f"agent={b.agent}" if b.agent else "", f"model={b.model}" if b.model else ""]
    return " ".join(p for p in parts if p) or "any"


def budget_json(b: Budget, names: dict[tuple[str, int], str]) -> dict[str, Any]:
    """A budget for --json output."""
    return {
        **b.as_json(),
        "target": target(b, names),
        "is_default": b.is_default,
        "limit_usd": usd_str(b.limit_nanousd),
    }


def budget_line(b: Budget, names: dict[tuple[str, int], str]) -> str:
    """A budget as one line of `budgets list`."""
    until = f" until {b.until:%Y-%m-%d %H:%M}Z" if b.until else ""
    return (
        f"{b.id:>4} {target(b, names):<26} {filters(b):<22} {b.window:<6} "
        f"{usd_str(b.limit_nanousd):>14} {b.mode:<4} {','.join(map(str, b.thresholds)):<10}{until}"
    )


def state_status(s: BudgetState) -> str:
    """ok | warning | projected | over (soft, used up) | blocked (hard, used up)."""
    if s.exceeded:
        return "blocked" if s.budget.mode == "hard" else "over"
    fc = s.forecast
    if fc.exhaustion_at is not None and can_project(s.window, s.now):
        return "projected"
    if any(s.crossed(p) for p in s.budget.thresholds):
        return "warning"
    return "ok"


def state_json(s: BudgetState, names: dict[tuple[str, int], str]) -> dict[str, Any]:
    """A budget state for `budgets status --json`."""
    b, fc = s.budget, s.forecast
    return {
        "budget_id": b.id,
        "scope": b.scope,
        "subject": names.get((b.scope, s.subject_id), str(s.subject_id)),
        "is_default": b.is_default,
        "agent": b.agent or None,
        "model": b.model or None,
        "window": b.window,
        "window_start": s.window.start.isoformat(),
        "resets_at": s.resets_at.isoformat(),
        "timezone": s.window.zone,
        "mode": b.mode,
        "spent_usd": usd_str(s.spent_nanousd),
        "spent_nanousd": s.spent_nanousd,
        "limit_usd": usd_str(s.limit_nanousd),
        "limit_nanousd": s.limit_nanousd,
        "base_limit_nanousd": b.limit_nanousd,
        "utilization_pct": round(s.utilization * 100, 2),
        "projected_usd": usd_str(fc.projected_nanousd),
        "projected_exhaustion": fc.exhaustion_at.isoformat() if fc.exhaustion_at else None,
        "status": state_status(s),
    }


def state_line(s: BudgetState, names: dict[tuple[str, int], str]) -> str:
    """A budget state as one line of `budgets status`."""
    b = s.budget
    subject = f"{b.scope}:{names.get((b.scope, s.subject_id), s.subject_id)}"
    if b.is_default:
        subject += "*"
    return (
        f"{b.id:>4} {subject[:26]:<26} {filters(b)[:22]:<22} {b.window:<6} "
        f"{usd_str(s.spent_nanousd)[:-4]:>11} {usd_str(s.limit_nanousd)[:-4]:>11} "
        f"{s.utilization * 100:>5.1f}% {local_time(s.resets_at, s.window.zone):<22} "
        f"{usd_str(s.forecast.projected_nanousd)[:-4]:>11} {state_status(s)}"
    )


def _owner(conn: Connection, actor: Actor) -> tuple[int | None, set[int]]:
    """The actor's user id and the ids of that user's keys."""
    keys = keys_of_user(conn, actor.user_id) if actor.user_id is not None else set()
    return actor.user_id, keys


def _own(scope: str, subject_id: int, user_id: int | None, keys: set[int]) -> bool:
    return (scope == "user" and subject_id == user_id) or (scope == "key" and subject_id in keys)


def visible(conn: Connection, actor: Actor, states: Sequence[BudgetState]) -> list[BudgetState]:
    """Admins see every state; members only their own user's and keys' spend."""
    if actor.is_admin:
        return list(states)
    user_id, keys = _owner(conn, actor)
    return [s for s in states if _own(s.budget.scope, s.subject_id, user_id, keys)]


def visible_budgets(conn: Connection, actor: Actor, budgets: Sequence[Budget]) -> list[Budget]:
    """Admins see every budget; members the defaults, shared ones and their own."""
    if actor.is_admin:
        return list(budgets)
    user_id, keys = _owner(conn, actor)
    shared = ("org", "workspace")
    return [
        b
        for b in budgets
        if b.is_default or b.scope in shared or _own(b.scope, b.scope_id, user_id, keys)
    ]
