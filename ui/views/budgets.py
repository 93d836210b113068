"""Budgets: utilization, status, projection and reset of every budget; the alert feed; and
"Why?" — a link to the costliest traces and sessions that consumed each budget's window."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import pandas as pd
import streamlit as st

from collector_processor.budgets.evaluate import BudgetState, status_states
from otelspend.budget_views import filters, names_for, state_status, visible
from store.alerts import list_alerts
from store.budgets import load_budgets
from ui import charts
from ui.context import PageContext, page_context
from ui.fmt import dollars, money, when
from ui.widgets import chart_and_table, money_column


def why_query(s: BudgetState, names: dict[tuple[str, int], str]) -> dict[str, str]:
    """The Traces page's parameters for this budget's subject in its current window: the
    same shape as the alert webhook's link (collector_processor.budgets.alerts)."""
    b = s.budget
    return {
        "budget": str(b.id),
        b.scope: names.get((b.scope, s.subject_id), str(s.subject_id)),
        "window_start": s.window.start.isoformat(),
        "window_end": s.window.end.isoformat(),
        "sort": "cost",
    }


def why_link(s: BudgetState, names: dict[tuple[str, int], str]) -> str:
    """why_query as a link relative to the UI's root."""
    return f"traces?{urlencode(why_query(s, names))}"


def subject_label(s: BudgetState, names: dict[tuple[str, int], str]) -> str:
    """'user alice (default)', 'org acme'."""
    b = s.budget
    name = names.get((b.scope, s.subject_id), str(s.subject_id))
    return f"{b.scope} {name}" + (" (default)" if b.is_default else "")


def render() -> None:
    """Draw the Budgets page."""
    ctx = page_context()
    st.title(f"Budgets · {ctx.org.name}")
    st.caption(f"Current calendar windows in {ctx.zone}; limits include approved increases.")
    with ctx.engine.begin() as conn:
        budgets = load_budgets(conn, ctx.org.id)
        states = visible(conn, ctx.actor, status_states(conn, ctx.org, ctx.now()))
        names = names_for(conn, budgets, states)
    if not states:
        st.info(
            "No budget applies here yet. An admin sets one with `otelspend budgets set "
            "--scope user:NAME --window day --limit 50` or a default for everyone with "
            "`otelspend budgets default --scope user --window month --limit 200`."
        )
    else:
        _table(ctx, states, names)
    _alerts(ctx)


def _frame(
    ctx: PageContext, states: list[BudgetState], names: dict[tuple[str, int], str]
) -> pd.DataFrame:
    rows = sorted(states, key=lambda s: (-s.utilization, s.budget.id, s.subject_id))
    return pd.DataFrame(
        {
            "budget": [f"#{s.budget.id} {subject_label(s, names)}" for s in rows],
            "filter": [filters(s.budget) for s in rows],
            "window": [s.budget.window for s in rows],
            "spent_usd": [dollars(s.spent_nanousd) for s in rows],
            "limit_usd": [dollars(s.limit_nanousd) for s in rows],
            "used": [round(100 * s.utilization, 1) for s in rows],
            "status": [state_status(s) for s in rows],
            "mode": [s.budget.mode for s in rows],
            "projected": [money(s.forecast.projected_nanousd) for s in rows],
            "runs_out": [
                when(s.forecast.exhaustion_at, ctx.zone) if s.forecast.exhaustion_at else "—"
                for s in rows
            ],
            "resets": [when(s.resets_at, ctx.zone) for s in rows],
            "why": [why_link(s, names) for s in rows],
            "spent": [money(s.spent_nanousd) for s in rows],
            "limit": [money(s.limit_nanousd) for s in rows],
        }
    )


def _table(ctx: PageContext, states: list[BudgetState], names: dict[tuple[str, int], str]) -> None:
    df = _frame(ctx, states, names)
    over = int((df["status"].isin(["over", "blocked"])).sum())
    a, b, c = st.columns(3)
    a.metric("Budgets in force", len(df))
    b.metric("Used up", over)
    c.metric("Warning or projected", int(df["status"].isin(["warning", "projected"]).sum()))
    chart_df = df.rename(columns={"used": "pct"})[
        ["budget", "pct", "status", "spent", "limit", "resets"]
    ]
    chart_and_table(
        charts.utilization(chart_df.head(25)),
        df.drop(columns=["spent", "limit"]),
        {
            "spent_usd": money_column("spent"),
            "limit_usd": money_column("limit"),
            "used": st.column_config.ProgressColumn(
                "used", format="%.1f%%", min_value=0, max_value=100
            ),
            "runs_out": "limit reached at (projected)",
            "why": st.column_config.LinkColumn("Why?", display_text="costliest traces"),
        },
        key="budgets",
        ratio=(2, 3),
    )
    st.markdown("**Why did a budget blow?** Pick one to open what consumed it.")
    ordered = sorted(states, key=lambda s: (-s.utilization, s.budget.id, s.subject_id))
    labels = list(df["budget"])
    pick = st.selectbox(
        "Budget", range(len(labels)), format_func=labels.__getitem__, key="budget_pick"
    )
    chosen = ordered[pick]
    left, right = st.columns(2)
    left.page_link(
        "screens/traces.py",
        label=f"Why? Costliest traces and sessions of {labels[pick]}",
        icon=":material/search:",
        query_params=why_query(chosen, names),
    )
    subject = names.get((chosen.budget.scope, chosen.subject_id), str(chosen.subject_id))
    right.page_link(
        "screens/requests.py",
        label="Request an increase",
        icon=":material/add_circle:",
        query_params={"budget": str(chosen.budget.id), "subject": subject},
    )


def _alerts(ctx: PageContext) -> None:
    st.subheader("Alert feed")
    user = None if ctx.is_admin else (ctx.actor.user_id or -1)
    alerts = list_alerts(ctx.engine, org_id=ctx.org.id, user_id=user, limit=50)
    if not alerts:
        st.caption(
            "No alerts yet: they appear when a budget crosses a threshold, is projected to "
            "run out, a session runs away, or an unpriced model shows up."
        )
        return
    df = pd.DataFrame(
        {
            "at": [when(a.created_at, ctx.zone) if a.created_at else "" for a in alerts],
            "kind": [a.kind for a in alerts],
            "subject": [a.subject for a in alerts],
            "message": [a.message for a in alerts],
            "link": [_relative(a.link) for a in alerts],
        }
    )
    st.dataframe(
        df,
        hide_index=True,
        width="stretch",
        column_config={
            "message": st.column_config.TextColumn("message", width="large"),
            "link": st.column_config.LinkColumn("open", display_text="traces"),
        },
        key="alerts",
    )


def _relative(link: str) -> str:
    """Alert links carry the configured UI URL; here, stay on this host."""
    if not link:
        return ""
    parts = urlsplit(link)
    return parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
