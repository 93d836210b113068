"""Requests & audit: file a budget-increase request (pre-filled from the budget and traces in
view), approve or deny it (admins), and the audit log (admins)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy import Connection

from collector_processor.budgets.evaluate import status_states
from otelspend.budget_views import names_for, visible
from store.audit import list_audit
from store.budget_requests import (
    BudgetRequest,
    RequestError,
    create_request,
    decide_request,
    list_requests,
)
from store.budgets import get_budget, load_budgets
from store.members import PermissionDenied
from store.subjects import subject_names
from ui.context import PageContext, page_context
from ui.fmt import dollars, money, when
from ui.state import url_int, url_list, url_value
from ui.widgets import money_column

NANO_PER_USD = 1_000_000_000


def render() -> None:
    """Draw the Requests & audit page."""
    ctx = page_context()
    st.title("Budget requests & audit")
    _file_form(ctx)
    _requests(ctx)
    if ctx.is_admin:
        _audit(ctx)


def _budget_choices(ctx: PageContext) -> list[tuple[int, int, str, str]]:
    """(budget id, subject id, subject name, label) the viewer may ask to raise."""
    with ctx.engine.begin() as conn:
        budgets = load_budgets(conn, ctx.org.id)
        states = visible(conn, ctx.actor, status_states(conn, ctx.org, ctx.now()))
        names = names_for(conn, budgets, states)
    out = []
    for s in states:
        name = names.get((s.budget.scope, s.subject_id), str(s.subject_id))
        label = (
            f"#{s.budget.id} {s.budget.scope} {name} · {s.budget.window}ly · "
            f"{money(s.spent_nanousd)} of {money(s.limit_nanousd)}"
        )
        out.append((s.budget.id, s.subject_id, name, label))
    return sorted(set(out))


def _file_form(ctx: PageContext) -> None:
    st.subheader("Ask for more")
    choices = _budget_choices(ctx)
    if not choices:
        st.caption("No budget applies to you, so there is nothing to raise.")
        return
    wanted = (url_int("budget"), url_value("subject"))
    index = next((i for i, c in enumerate(choices) if (c[0], c[2]) == wanted), 0)
    with st.form("request"):
        pick = st.selectbox(
            "Budget", range(len(choices)), index=index, format_func=lambda i: choices[i][3]
        )
        a, b = st.columns(2)
        amount = a.text_input("Raise by (USD per window)", value="25")
        until = b.date_input("Until (inclusive)", value=(ctx.now() + timedelta(days=7)).date())
        reason = st.text_area("Why", placeholder="e.g. migrating the billing service this week")
        traces = st.text_input(
            "Traces that justify it (ids, comma-separated)", value=", ".join(url_list("trace"))
        )
        if st.form_submit_button("File request", type="primary"):
            _file(ctx, choices[pick], amount, until, reason, traces)  # type: ignore[arg-type]


def _file(
    ctx: PageContext,
    choice: tuple[int, int, str, str],
    amount: str,
    until: object,
    reason: str,
    traces: str,
) -> None:
    try:
        nano = int(Decimal(amount.strip().lstrip("$")) * NANO_PER_USD)
    except InvalidOperation:
        st.error(f"{amount!r} is not an amount of dollars.")
        return
    day = until if hasattr(until, "year") else ctx.now().date()
    end = datetime.combine(day, time(0), tzinfo=ZoneInfo(ctx.zone)) + timedelta(days=1)  # type: ignore[arg-type]
    ids = tuple(t.strip() for t in traces.split(",") if t.strip())
    try:
        with ctx.engine.begin() as conn:
            budget = get_budget(conn, choice[0])
            assert budget is not None
            req = create_request(
                conn, ctx.org, ctx.actor, budget, choice[1], nano, end.astimezone(UTC), reason, ids
            )
    except (RequestError, PermissionDenied, ValueError) as exc:
        st.error(str(exc))
        return
    st.success(
        f"Request {req.id} filed: +{money(nano)} on budget #{choice[0]} until {day}; "
        "an admin decides."
    )


def _requests(ctx: PageContext) -> None:
    st.subheader("Requests")
    mine = None if ctx.is_admin else ctx.actor.name
    with ctx.engine.connect() as conn:
        reqs = list_requests(conn, ctx.org.id, requested_by=mine)
        subjects = {r.id: _subject(conn, r.budget_id, r.subject_id) for r in reqs}
    if not reqs:
        st.caption("No requests yet.")
        return
    df = pd.DataFrame(
        {
            "id": [r.id for r in reqs],
            "status": [r.status for r in reqs],
            "budget": [f"#{r.budget_id}" for r in reqs],
            "for": [subjects[r.id] for r in reqs],
            "amount": [dollars(r.amount_nanousd) for r in reqs],
            "until": [when(r.until, ctx.zone) for r in reqs],
            "by": [r.requested_by for r in reqs],
            "reason": [r.reason for r in reqs],
            "traces": [", ".join(r.traces) for r in reqs],
            "decided by": [r.decided_by for r in reqs],
            "note": [r.decision_note for r in reqs],
        }
    )
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        key="requests_table",
        column_config={"amount": money_column("amount")},
    )
    pending = [r for r in reqs if r.status == "pending"]
    if ctx.is_admin and pending:
        _decide(ctx, pending)


def _subject(conn: Connection, budget_id: int, subject_id: int) -> str:
    b = get_budget(conn, budget_id)
    if b is None:
        return str(subject_id)
    name = subject_names(conn, b.scope, [subject_id]).get(subject_id, str(subject_id))
    return f"{b.scope} {name}"


def _decide(ctx: PageContext, pending: list[BudgetRequest]) -> None:
    with st.form("decide"):
        st.markdown("**Decide a pending request**")
        pick = st.selectbox("Request", [r.id for r in pending], format_func=lambda i: f"#{i}")
        note = st.text_input("Note")
        a, b = st.columns(2)
        approve = a.form_submit_button("Approve", type="primary")
        deny = b.form_submit_button("Deny")
    if approve or deny:
        try:
            decide_request(ctx.engine, ctx.org, ctx.actor, int(pick), approve, note)
        except (RequestError, PermissionDenied) as exc:
            st.error(str(exc))
            return
        st.success(f"Request #{pick} {'approved' if approve else 'denied'}.")
        st.rerun()


def _audit(ctx: PageContext) -> None:
    st.subheader("Audit log")
    a, b = st.columns(2)
    action = a.text_input("Action starts with", placeholder="budget. / request. / price.")
    actor = b.text_input("Actor")
    rows = list_audit(
        ctx.engine,
        entity_prefix=f"{ctx.org.name}/",
        actor=actor or None,
        action_prefix=action,
        limit=200,
    )
    if not rows:
        st.caption("Nothing audited yet for this org.")
        return
    st.dataframe(
        pd.DataFrame(
            {
                "at": [when(r.at, ctx.zone) for r in rows],
                "actor": [r.actor for r in rows],
                "action": [r.action for r in rows],
                "entity": [r.entity for r in rows],
                "before": [_short(r.before) for r in rows],
                "after": [_short(r.after) for r in rows],
            }
        ),
        hide_index=True,
        width="stretch",
        key="audit_table",
    )


def _short(value: object) -> str:
    return "" if value is None else json.dumps(value, default=str, sort_keys=True)[:300]
