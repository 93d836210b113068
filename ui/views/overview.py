"""Overview: spend today / this week / this month against the org budget, spend over time,
breakdowns by agent, workspace, user, key and model, and the biggest movers."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from collector_processor.budgets.windows import window_at
from store.budgets import org_limits
from store.ui_queries import (
    BREAKDOWN_DIMENSIONS,
    Breakdown,
    GroupSpend,
    SpendScope,
    breakdown,
    dimensions,
    resolution_for,
    spend_series,
    window_totals,
)
from ui import charts
from ui.context import PageContext, page_context
from ui.fmt import dollars, money, pct, signed_money, tokens
from ui.state import bind, publish, url_list
from ui.widgets import TimeRange, chart_and_table, empty_state, money_column, time_range

_PERIODS = (
    ("today", "day", "Today"),
    ("week", "week", "This week"),
    ("month", "month", "This month"),
)
_LABELS = {
    "agent": "Agent",
    "workspace": "Workspace",
    "user": "User",
    "key": "Key",
    "model": "Model",
}


def render() -> None:
    """Draw the Overview page."""
    ctx = page_context()
    st.title(f"Spend overview · {ctx.org.name}")
    st.caption(
        f"Times in {ctx.zone}. Money is billed spend; unpriced calls count $0 and are flagged."
    )
    rng = time_range(ctx, "ov", default="7d")
    scope = _filters(ctx, rng)
    _kpis(ctx, scope)
    bd = breakdown(ctx.engine, scope, scope.start_minute - rng.minutes)
    if not any(bd.groups.values()):
        empty_state(ctx, "spend in this range")
        return
    _over_time(ctx, scope, rng)
    _breakdowns(bd)
    _movers(bd, rng)


def _filters(ctx: PageContext, rng: TimeRange) -> SpendScope:
    """Workspace / agent / model / user filters, bound to the URL; members see only themselves."""
    dims = dimensions(ctx.engine, ctx.org.id, rng.start_minute - 30 * 1440, rng.end_minute)
    cols = st.columns(4 if ctx.is_admin else 3)
    ws_by_name = {v: k for k, v in dims.workspaces.items()}
    users_by_name = {v: k for k, v in dims.users.items()}
    picked = {}
    for col, (param, label, options) in zip(
        cols,
        (
            ("workspace", "Workspace", sorted(ws_by_name)),
            ("agent", "Agent", dims.agents),
            ("model", "Model", dims.models),
            ("user", "User", sorted(users_by_name)),
        ),
        strict=False,
    ):
        key = f"ov_{param}"
        bind(key, [v for v in url_list(param) if v in options])
        picked[param] = col.multiselect(label, options, key=key, placeholder="all")
    publish(
        {"range": rng.choice, **picked, **_custom_params(rng)},
        {f"ov_{k}": v for k, v in picked.items()} | {"ov_range": rng.choice},
    )
    users = tuple(users_by_name[u] for u in picked.get("user", []))
    return SpendScope(
        ctx.org.id,
        rng.start_minute,
        rng.end_minute,
        workspace_ids=tuple(ws_by_name[w] for w in picked["workspace"]),
        user_ids=ctx.own_users or users,
        agents=tuple(picked["agent"]),
        models=tuple(picked["model"]),
    )


def _custom_params(rng: TimeRange) -> dict[str, str | None]:
    if rng.choice != "custom":
        return {"window_start": None, "window_end": None}
    return {"window_start": rng.start.isoformat(), "window_end": rng.end.isoformat()}


def _kpis(ctx: PageContext, scope: SpendScope) -> None:
    """Spend of the calendar day, week and month against the org's budgets of those windows."""
    now = ctx.now()
    windows = {}
    for name, kind, _ in _PERIODS:
        w = window_at(kind, now, ctx.zone)
        windows[name] = (w.start_minute, w.end_minute)
    spent = window_totals(ctx.engine, scope, windows)
    unfiltered = scope == SpendScope(scope.org_id, scope.start_minute, scope.end_minute)
    limits = _org_limits(ctx) if unfiltered else {}  # an org budget is about all of it
    cols = st.columns(len(_PERIODS))
    for col, (name, kind, label) in zip(cols, _PERIODS, strict=True):
        limit = limits.get(kind)
        if limit:
            col.metric(
                label,
                money(spent[name]),
                f"{pct(spent[name], limit)} of {money(limit)} org budget",
                delta_color="inverse" if spent[name] >= limit else "off",
                delta_arrow="off",
                border=True,
            )
        else:
            col.metric(label, money(spent[name]), border=True)


def _org_limits(ctx: PageContext) -> dict[str, int]:
    """Effective limit of the org-wide budgets (any agent, any model) per window kind."""
    with ctx.engine.connect() as conn:
        return org_limits(conn, ctx.org.id, ctx.now())


def _over_time(ctx: PageContext, scope: SpendScope, rng: TimeRange) -> None:
    resolution = resolution_for(rng.minutes)
    points = spend_series(ctx.engine, scope, resolution, ctx.zone)
    st.subheader(f"Spend over time · per {resolution} · {rng.label}")
    df = pd.DataFrame(
        {
            "start": [p.start.astimezone(ZoneInfo(ctx.zone)).replace(tzinfo=None) for p in points],
            "agent": [p.agent or "(none)" for p in points],
            "usd": [dollars(p.cost_nanousd) for p in points],
            "spend": [money(p.cost_nanousd) for p in points],
            "calls": [p.calls for p in points],
        }
    )
    table = df.groupby("start", as_index=False).agg(usd=("usd", "sum"), calls=("calls", "sum"))
    table = table.sort_values("start", ascending=False)
    chart_and_table(
        charts.spend_over_time(df, resolution),
        table,
        {
            "start": st.column_config.DatetimeColumn(
                resolution, format="ddd YYYY-MM-DD" if resolution == "day" else "YYYY-MM-DD HH:mm"
            ),
            "usd": money_column("spend", precise=_small(table["usd"])),
            "calls": st.column_config.NumberColumn("calls", format="localized"),
        },
        key="series",
        height=320,
    )


def _small(usd: pd.Series) -> bool:
    """Amounts under $10: show sub-cent digits, as the metrics do (ui.fmt.money)."""
    return bool(len(usd)) and float(usd.abs().max()) < 10


def _group_frame(groups: list[GroupSpend]) -> pd.DataFrame:
    total = sum(g.cost_nanousd for g in groups)
    return pd.DataFrame(
        {
            "name": [g.name for g in groups],
            "usd": [dollars(g.cost_nanousd) for g in groups],
            "spend": [money(g.cost_nanousd) for g in groups],
            "share": [pct(g.cost_nanousd, total) for g in groups],
            "calls": [g.calls for g in groups],
            "unpriced": [g.unpriced_calls for g in groups],
            "vs_before": [signed_money(g.delta_nanousd) for g in groups],
            "input": [tokens(g.input_tokens) for g in groups],
            "cache_read": [tokens(g.cache_read_tokens) for g in groups],
            "cache_write": [tokens(g.cache_write_tokens) for g in groups],
            "output": [tokens(g.output_tokens) for g in groups],
        }
    )


def _breakdowns(bd: Breakdown) -> None:
    st.subheader("Where it goes")
    tabs = st.tabs([_LABELS[d] for d in BREAKDOWN_DIMENSIONS])
    for tab, dim in zip(tabs, BREAKDOWN_DIMENSIONS, strict=True):
        df = _group_frame(bd.groups[dim])
        with tab:
            chart_and_table(
                charts.ranked_bars(df.head(15), _LABELS[dim]),
                df.drop(columns=["spend"]),
                {
                    "name": _LABELS[dim],
                    "usd": money_column("spend", precise=_small(df["usd"])),
                    "vs_before": "vs previous period",
                    "cache_read": "cache read",
                    "cache_write": "cache write",
                },
                key=f"by_{dim}",
            )


def _movers(bd: Breakdown, rng: TimeRange) -> None:
    rows = bd.movers()
    st.subheader("Biggest movers vs the previous period")
    if not rows:
        st.caption("Nothing changed against the previous period of the same length.")
        return
    df = pd.DataFrame(
        {
            "label": [f"{g.dim}: {g.name}" for g in rows],
            "delta_usd": [dollars(g.delta_nanousd) for g in rows],
            "change": [signed_money(g.delta_nanousd) for g in rows],
            "now": [money(g.cost_nanousd) for g in rows],
            "before": [money(g.previous_nanousd) for g in rows],
        }
    )
    st.caption(f"{rng.label} against the {rng.minutes // 60 or 1} hours before it.")
    chart_and_table(charts.movers(df), df.drop(columns=["delta_usd"]), key="movers")
