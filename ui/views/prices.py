"""Prices: the rates in force, overrides, unpriced models and cost-accuracy deltas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from otelspend.cli_prices import _listing  # the CLI's listing: same rates, same rules
from otelspend.prices_views import rate, tiers_text
from store.price_overrides import list_overrides
from store.price_reports import cost_accuracy, unpriced_model_uses
from store.prices import load_price_book
from ui.context import PageContext, page_context
from ui.fmt import dollars, money, when
from ui.widgets import chart_and_table, money_column

_RATE_COLUMNS = ("input", "cache read", "cache write", "cache write 1h", "output", "reasoning")


@st.cache_data(ttl=60, show_spinner=False)
def _rates(db: str, org_id: int, _ctx: Any) -> pd.DataFrame:
    """Every model's rates in force now for this org (cached: the catalog is large)."""
    book = load_price_book(_ctx.engine)
    rows = []
    for entry, res in _listing(book, None, _ctx.now(), org_id, None):
        r = res.rates
        values = dict(zip(_RATE_COLUMNS, (rate(v) for v in r.all_rates()), strict=True))
        rows.append(
            {
                "provider": entry.provider_id,
                "model": entry.model_id,
                **values,
                "long context": tiers_text(r),
                "source": res.price_version,
            }
        )
    return pd.DataFrame(rows)


def render() -> None:
    """Draw the Prices page."""
    ctx = page_context()
    st.title("Prices")
    st.caption("Rates are USD per million tokens ('-': billed as the class it is part of).")
    tabs = st.tabs(["Unpriced models", "Cost accuracy", "Rates in force", "Overrides"])
    with tabs[0]:
        _unpriced(ctx)
    with tabs[1]:
        _accuracy(ctx)
    with tabs[2]:
        _rates_tab(ctx)
    with tabs[3]:
        _overrides(ctx)


def _rates_tab(ctx: PageContext) -> None:
    df = _rates(ctx.settings.db, ctx.org.id, ctx)
    a, b = st.columns(2)
    provider = a.selectbox(
        "Provider", ["", *sorted(df["provider"].unique())], format_func=lambda v: v or "all"
    )
    search = b.text_input("Model contains")
    if provider:
        df = df[df["provider"] == provider]
    if search:
        df = df[df["model"].str.contains(search.strip(), case=False, regex=False)]
    st.dataframe(df, hide_index=True, width="stretch", key="rates_table")
    st.caption(f"{len(df)} models")


def _overrides(ctx: PageContext) -> None:
    rows = list_overrides(ctx.engine)
    if not rows:
        st.caption(
            "No overrides: every model bills at catalog prices. Add a negotiated discount "
            "or a custom model with `otelspend prices override`."
        )
        return
    st.dataframe(
        pd.DataFrame(
            {
                "id": [o.id for o in rows],
                "scope": [o.scope for o in rows],
                "provider": [o.provider for o in rows],
                "model": [o.model for o in rows],
                "discount %": [o.discount_pct or "" for o in rows],
                "rates": [", ".join(f"{k}={v}" for k, v in o.rates.items() if v) for o in rows],
                "from": [when(o.valid_from, ctx.zone) for o in rows],
                "until": [when(o.valid_until, ctx.zone) if o.valid_until else "open" for o in rows],
                "note": [o.note for o in rows],
                "by": [o.created_by for o in rows],
            }
        ),
        hide_index=True,
        width="stretch",
        key="overrides_table",
    )


def _unpriced(ctx: PageContext) -> None:
    uses = unpriced_model_uses(ctx.engine, ctx.org.id)
    if not uses:
        st.success("Every model seen has a price.")
        return
    st.warning(
        f"{len(uses)} model(s) without a price: their calls are kept and flagged, counted "
        "as $0 in budgets until a price is added (`otelspend prices override`)."
    )
    df = pd.DataFrame(
        {
            "model": [u.model.model for u in uses],
            "provider": [u.model.provider for u in uses],
            "calls": [u.model.calls for u in uses],
            "input tokens": [u.model.input_tokens for u in uses],
            "output tokens": [u.model.output_tokens for u in uses],
            "first seen": [when(u.model.first_seen_ns, ctx.zone) for u in uses],
            "last seen": [when(u.model.last_seen_ns, ctx.zone) for u in uses],
            "users": [
                ", ".join(u.user_names) if ctx.is_admin else str(u.model.users) for u in uses
            ],
            "traces": [f"traces?model={u.model.model}&unpriced=1&range=30d" for u in uses],
        }
    )
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("calls:Q"),
            y=alt.Y("model:N", sort="-x"),
            tooltip=["model", "provider", "calls", "users"],
        )
    )
    chart_and_table(
        chart,
        df,
        {"traces": st.column_config.LinkColumn("traces", display_text="its traces →")},
        key="unpriced",
    )  # noqa: E501


def _accuracy(ctx: PageContext) -> None:
    since = ctx.now() - timedelta(days=30)
    rows = cost_accuracy(
        ctx.engine, since_ns=int(since.timestamp()) * 1_000_000_000, org_id=ctx.org.id
    )
    st.caption(
        "Our price against the client's own reported cost, last 30 days (calls that "
        "carry both). More than 1 % apart is flagged."
    )
    if not rows:
        st.info("No client reports its own cost yet (Claude Code does, in its api_request events).")
        return
    df = pd.DataFrame(
        {
            "model": [r.model for r in rows],
            "provider": [r.provider for r in rows],
            "calls": [r.calls for r in rows],
            "client": [dollars(r.client_nanousd) for r in rows],
            "ours": [dollars(r.ours_nanousd) for r in rows],
            "delta": [money(r.delta_nanousd) for r in rows],
            "delta %": [float(r.delta_pct) if r.delta_pct is not None else None for r in rows],
            "calls off": [r.calls_off for r in rows],
            "flagged": [r.flagged() for r in rows],
        }
    )
    chart = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("delta %:Q", title="ours vs client, %"),
            y=alt.Y("model:N", sort="-x"),
            color=alt.Color("flagged:N"),
            tooltip=["model", "delta", "delta %", "calls"],
        )
    )
    chart_and_table(
        chart,
        df,
        {
            "client": money_column("client"),
            "ours": money_column("ours"),
            "delta %": st.column_config.NumberColumn("delta %", format="%.2f%%"),
        },
        key="accuracy",
    )
