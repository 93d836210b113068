"""Traces: the costliest traces (and sessions) for any filter; a budget's "Why?" lands here.

URL shape (also what alert webhooks link to): ?budget=ID&user=NAME&window_start=ISO
&window_end=ISO&sort=cost, or ?session=S&trace=T, or ?model=M&unpriced=1, plus agent,
workspace, key, outcome, min_cost and range.  Selecting a row opens the Trace page.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

import altair as alt
import pandas as pd
import streamlit as st

from collector_processor.budgets.windows import adjective
from store.budgets import Budget, get_budget
from store.subjects import resolve_subject
from store.ui_queries import SpendScope, dimensions, window_totals
from store.ui_traces import (
    SpendGroup,
    TraceFilter,
    costliest_sessions,
    costliest_traces,
    outcome_labels,
    untraced_spend,
)
from ui.context import PageContext, page_context
from ui.fmt import dollars, duration, local, money
from ui.state import bind, publish, url_int, url_list, url_value
from ui.widgets import TimeRange, money_column, resolve_range, time_range

NANO_PER_USD = 1_000_000_000


@dataclass(frozen=True)
class BudgetView:
    """The budget a "Why?" link names, and the subject it was about."""

    budget: Budget
    subject: str
    subject_id: int


def render() -> None:
    """Draw the Traces page."""
    ctx = page_context()
    st.title("Costliest traces")
    why = _budget_from_url(ctx)
    f, rng = _filters(ctx, why)
    if why is not None:
        _budget_header(ctx, why, f, rng)
    traces = costliest_traces(ctx.engine, f, limit=100)
    sessions = costliest_sessions(ctx.engine, f, limit=20)
    if not traces and not sessions:
        st.info(
            f"No billed calls match these filters in {rng.label}. Widen the time range or "
            "clear a filter; traces appear as soon as an agent exports to otelspend."
        )
        return
    _traces_table(ctx, traces)
    _sessions_table(ctx, sessions, rng)
    calls, cost = untraced_spend(ctx.engine, f)
    if calls:
        st.caption(
            f"{calls:,} matching calls ({money(cost)}) carried no trace id (e.g. Codex "
            "log events): they count in sessions and totals, not in the trace list."
        )
    if why is not None:
        st.page_link(
            "screens/requests.py",
            label="Request an increase for this budget, citing these traces",
            icon=":material/add_circle:",
            query_params={
                "budget": str(why.budget.id),
                "subject": why.subject,
                "trace": [t.id for t in traces[:3]],
            },
        )


def _budget_from_url(ctx: PageContext) -> BudgetView | None:
    budget_id = url_int("budget")
    if budget_id is None:
        return None
    with ctx.engine.begin() as conn:
        budget = get_budget(conn, budget_id)
        if budget is None or budget.org_id != ctx.org.id:
            st.warning(f"Budget {budget_id} does not exist in {ctx.org.name} (deleted?).")
            return None
        subject = url_value(budget.scope) or (ctx.org.name if budget.scope == "org" else "")
        try:
            ident = resolve_subject(conn, ctx.org.id, budget.scope, subject)
        except LookupError:
            st.warning(f"No {budget.scope} {subject!r} in {ctx.org.name}.")
            return None
    return BudgetView(budget, subject, ident)


def _filters(ctx: PageContext, why: BudgetView | None) -> tuple[TraceFilter, TimeRange]:
    """Filter widgets bound to the URL; a budget link fixes subject, agent, model, window."""
    rng = time_range(ctx, "tr", default="24h") if why is None else _window(ctx)
    dims = dimensions(ctx.engine, ctx.org.id, rng.start_minute - 30 * 1440, rng.end_minute)
    by_name = {v: k for k, v in dims.users.items()}
    by_ws = {v: k for k, v in dims.workspaces.items()}
    by_key = {v: k for k, v in dims.keys.items()}
    a, b, c, d = st.columns(4)
    picked = {
        "user": _multi(a, "user", "User", sorted(by_name)) if ctx.is_admin else [],
        "workspace": _multi(b, "workspace", "Workspace", sorted(by_ws)),
        "agent": _multi(c, "agent", "Agent", dims.agents),
        "model": _multi(d, "model", "Model", dims.models),
    }
    e, g, h, i = st.columns(4)
    picked["key"] = _multi(e, "key", "Key", sorted(by_key)) if ctx.is_admin else []
    bind("tr_session", url_value("session"))
    session = g.text_input("Session id", key="tr_session")
    outcomes = ["", *outcome_labels(ctx.engine, ctx.org.id)]
    bind("tr_outcome", url_value("outcome") if url_value("outcome") in outcomes else "")
    outcome = h.selectbox(
        "Evaluation outcome", outcomes, key="tr_outcome", format_func=lambda v: v or "any"
    )
    bind("tr_min", url_value("min_cost"))
    min_cost = i.text_input("Minimum cost, USD", key="tr_min", placeholder="0")
    bind("tr_unpriced", url_value("unpriced") in ("1", "true"))
    unpriced = st.checkbox("Unpriced calls only", key="tr_unpriced")
    publish(
        {
            **picked,
            "session": session,
            "outcome": outcome,
            "min_cost": min_cost,
            "unpriced": "1" if unpriced else None,
            "trace": url_value("trace") or None,
        },
        {"tr_session": session, "tr_outcome": outcome, "tr_min": min_cost, "tr_unpriced": unpriced}
        | {f"tr_{k}": v for k, v in picked.items()},
    )
    f = TraceFilter(
        ctx.org.id,
        rng.start_ns,
        rng.end_ns,
        workspace_ids=tuple(by_ws[w] for w in picked["workspace"]),
        user_ids=ctx.own_users or tuple(by_name[u] for u in picked["user"]),
        key_ids=tuple(by_key[k] for k in picked["key"]),
        agents=tuple(picked["agent"]),
        models=tuple(picked["model"]),
        session_id=session.strip(),
        outcome=outcome,
        min_cost_nanousd=_nanousd(min_cost),
        unpriced_only=unpriced,
    )
    return (_narrowed(f, why) if why else f), rng


def _multi(
    col: st.delta_generator.DeltaGenerator, param: str, label: str, options: list[str]
) -> list[str]:
    key = f"tr_{param}"
    bind(key, [v for v in url_list(param) if v in options])
    return col.multiselect(label, options, key=key, placeholder="all")


def _nanousd(text: str) -> int:
    try:
        return max(0, int(Decimal(text.strip().lstrip("$") or "0") * NANO_PER_USD))
    except InvalidOperation:
        st.warning(f"Minimum cost {text!r} is not an amount of dollars; ignored.")
        return 0


def _window(ctx: PageContext) -> TimeRange:
    start, end = url_value("window_start"), url_value("window_end")
    st.caption("Window from the budget link; open Traces from the menu for other ranges.")
    return resolve_range("custom", ctx, start, end)


def _narrowed(f: TraceFilter, why: BudgetView) -> TraceFilter:
    """Only what the budget counts: its subject, agent and model."""
    b = why.budget
    if b.scope == "user":
        f = replace(f, user_ids=(why.subject_id,))
    elif b.scope == "key":
        f = replace(f, key_ids=(why.subject_id,))
    elif b.scope == "workspace":
        f = replace(f, workspace_ids=(why.subject_id,))
    if b.agent:
        f = replace(f, agents=(b.agent,))
    if b.model:
        f = replace(f, models=(b.model,))
    return f


def _budget_header(ctx: PageContext, why: BudgetView, f: TraceFilter, rng: TimeRange) -> None:
    b = why.budget
    scope = SpendScope(
        ctx.org.id,
        rng.start_minute,
        rng.end_minute,
        workspace_ids=f.workspace_ids,
        user_ids=f.user_ids,
        key_ids=f.key_ids,
        agents=f.agents,
        models=f.models,
    )
    spent = window_totals(ctx.engine, scope, {"w": (rng.start_minute, rng.end_minute)})["w"]
    narrow = " ".join(
        p
        for p in (f"agent={b.agent}" if b.agent else "", f"model={b.model}" if b.model else "")
        if p
    )
    st.subheader(f"Why? Budget #{b.id} · {b.scope} {why.subject} · {adjective(b.window)} {narrow}")
    st.caption(f"Window {rng.label}: the traces and sessions below consumed it, costliest first.")
    x, y = st.columns(2)
    x.metric("Spent in this window", money(spent), border=True)
    y.metric("Limit (base)", money(b.limit_nanousd), f"{b.mode} budget", delta_color="off",
             delta_arrow="off", border=True)  # fmt: skip


def _traces_table(ctx: PageContext, traces: list[SpendGroup]) -> None:
    st.subheader(f"Traces, costliest first ({len(traces)})")
    df = pd.DataFrame(
        {
            "trace": [t.id for t in traces],
            "started": [local(t.start_ns, ctx.zone) for t in traces],
            "duration": [duration(t.end_ns - t.start_ns) for t in traces],
            "cost": [dollars(t.cost_nanousd) for t in traces],
            "calls": [t.calls for t in traces],
            "unpriced": [t.unpriced_calls for t in traces],
            "users": [", ".join(t.users) for t in traces],
            "agents": [", ".join(t.agents) for t in traces],
            "models": [", ".join(t.models) for t in traces],
            "outcome": [t.outcome for t in traces],
            "session": [t.session_id for t in traces],
            "open": [f"trace?id={t.id}" for t in traces],
        }
    )
    left, right = st.columns((1, 3), gap="medium")
    top = df.head(20).assign(
        label=[
            f"{t[:8]}… {money(c)}"
            for t, c in zip(df["trace"], [x.cost_nanousd for x in traces[:20]], strict=False)
        ]
    )
    chart = (
        alt.Chart(top, height=max(160, 22 * len(top)))
        .mark_bar()
        .encode(
            x=alt.X("cost:Q", title="USD"),
            y=alt.Y(
                "trace:N",
                sort=list(top["trace"]),
                axis=alt.Axis(labelExpr="slice(datum.label, 0, 8)"),
                title="trace",
            ),
            tooltip=["trace:N", "label:N", "calls:Q", "users:N", "models:N", "outcome:N"],
        )
    )
    left.altair_chart(chart, width="stretch", key="traces_chart")
    event = right.dataframe(
        df,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="traces_table",
        column_config={
            "cost": money_column("cost", precise=True),
            "started": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm:ss"),
            "open": st.column_config.LinkColumn("open", display_text="trace →"),
        },
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        st.switch_page("screens/trace.py", query_params={"id": traces[rows[0]].id})


def _sessions_table(ctx: PageContext, sessions: list[SpendGroup], rng: TimeRange) -> None:
    if not sessions:
        return
    st.subheader("Sessions, costliest first")
    df = pd.DataFrame(
        {
            "session": [s.id for s in sessions],
            "started": [local(s.start_ns, ctx.zone) for s in sessions],
            "duration": [duration(s.end_ns - s.start_ns) for s in sessions],
            "cost": [dollars(s.cost_nanousd) for s in sessions],
            "traces": [s.traces for s in sessions],
            "calls": [s.calls for s in sessions],
            "users": [", ".join(s.users) for s in sessions],
            "agents": [", ".join(s.agents) for s in sessions],
            "open": [f"traces?session={s.id}&range=30d" for s in sessions],
        }
    )
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        key="sessions_table",
        column_config={
            "cost": money_column("cost", precise=True),
            "started": st.column_config.DatetimeColumn("started", format="YYYY-MM-DD HH:mm"),
            "open": st.column_config.LinkColumn("open", display_text="its traces →"),
        },
    )
