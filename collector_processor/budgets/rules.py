"""Apply the alert rules to what a pass touched (reads the store; raises nothing itself)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from collector_processor.budgets.alerts import budget_alerts, unpriced_model_alert
from collector_processor.budgets.dirty import DirtyOrg
from collector_processor.budgets.evaluate import BudgetState, applicable, states_for
from collector_processor.budgets.runaway import (
    Runaway,
    RunawayPolicy,
    detect,
    runaway_alert,
    runaway_key,
)
from collector_processor.budgets.windows import minute_of
from store.alerts import Alert
from store.budgets import Budget
from store.spend_series import call_series, costliest_session, costliest_trace
from store.subjects import OrgInfo, names_by_scope, subject_names

_STALE_MINUTES = 5  # backfilled data older than this is not judged for runaways


def budget_drafts(
    conn: Connection,
    org: OrgInfo,
    budgets: Sequence[Budget],
    dirty: DirtyOrg,
    now: datetime,
    ui_url: str,
) -> list[Alert]:
    """Threshold and projected alerts of every budget the touched calls count towards."""
    pairs: set[tuple[Budget, int]] = set()
    for scope in dirty.scopes:
        pairs.update(applicable(budgets, scope, now))
    if not pairs:
        return []
    states = states_for(conn, org, sorted(pairs, key=lambda p: (p[0].id, p[1])), now)
    names = names_by_scope(conn, ((s.budget.scope, s.subject_id) for s in states))
    out: list[Alert] = []
    for s in states:
        name = names.get((s.budget.scope, s.subject_id), str(s.subject_id))
        out += budget_alerts(s, name, _user_of(s, dirty), ui_url)
    return out


def _user_of(state: BudgetState, dirty: DirtyOrg) -> int:
    """Whose own spend the alert is about (members see alerts about themselves)."""
    if state.budget.scope == "user":
        return state.subject_id
    if state.budget.scope == "key":
        return dirty.key_users.get(state.subject_id, 0)
    return 0


def runaway_drafts(
    conn: Connection,
    org: OrgInfo,
    dirty: DirtyOrg,
    now: datetime,
    policy: RunawayPolicy,
    ui_url: str,
    fired: set[str],
) -> list[Alert]:
    """Runaway alerts for touched sessions and keys whose latest minute jumped."""
    fresh = minute_of(now) - _STALE_MINUTES
    sessions = {s: v for s, v in dirty.sessions.items() if v[1] >= fresh}
    keys = {k: v for k, v in dirty.keys.items() if v[1] >= fresh}
    prefixes = subject_names(conn, "key", keys) if keys else {}
    out: list[Alert] = []
    labels: dict[Any, str] = {s: f"session:{s}" for s in sessions}
    for sid, user, found in _jumps(conn, org.id, "session_id", sessions, labels, policy, fired):
        trace = costliest_trace(conn, org.id, sid, found.minute, found.minute)
        out.append(runaway_alert(org.id, labels[sid], user, found, sid, trace, ui_url))
    alerted = {a.session_id for a in out}
    labels = {k: f"key:{prefixes.get(k, k)}" for k in keys}
    for key, user, found in _jumps(conn, org.id, "key_id", keys, labels, policy, fired):
        sid = costliest_session(conn, org.id, key, found.minute)
        if sid in alerted or runaway_key(org.id, f"session:{sid}", found.minute) in fired:
            continue  # the session's own alert already names this jump
        trace = costliest_trace(conn, org.id, sid, found.minute, found.minute) if sid else ("", 0)
        out.append(runaway_alert(org.id, labels[key], user, found, sid, trace, ui_url))
    return out


def _jumps(
    conn: Connection,
    org_id: int,
    column: str,
    todo: dict[Any, tuple[int, int]],
    labels: dict[Any, str],
    policy: RunawayPolicy,
    fired: set[str],
) -> list[tuple[Any, int, Runaway]]:
    """(subject, user, jump) for each subject whose latest minute is a runaway."""
    todo = {i: v for i, v in todo.items() if runaway_key(org_id, labels[i], v[1]) not in fired}
    if not todo:
        return []
    last = max(m for _, m in todo.values())
    first = min(m for _, m in todo.values()) - policy.baseline_minutes
    series = call_series(conn, org_id, column, list(todo), first, last)
    out = []
    for ident, (user, minute) in todo.items():
        found = detect(series.get(ident, {}), minute, policy)
        if found is not None:
            out.append((ident, user, found))
    return out


def unpriced_drafts(org: OrgInfo, dirty: DirtyOrg, ui_url: str) -> list[Alert]:
    """First-sighting alerts of models without a price."""
    return [unpriced_model_alert(org.id, m, p, ui_url) for m, p in sorted(dirty.unpriced)]
