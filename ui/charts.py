"""Altair charts of the pages; each takes a tidy DataFrame the page also shows as a table.

Every mark carries a tooltip with the exact figures (money pre-formatted by ui.fmt), so
hovering tells the same story as the table beside the chart.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_HEIGHT = 320
_STATUS_COLORS = alt.Scale(
    domain=["ok", "warning", "projected", "over", "blocked"],
    range=["#2ca02c", "#e6a700", "#ff7f0e", "#d62728", "#7f0000"],
)


def spend_over_time(df: pd.DataFrame, resolution: str) -> alt.Chart:
    """Stacked bars of spend per bucket, one colour per agent (columns: start, agent, usd,
    spend, calls)."""
    time_format = {"minute": "%H:%M", "hour": "%b %d %H:00", "day": "%a %b %d"}[resolution]
    # An ordinal axis of bucket starts: bars as wide as their slot, gaps where nothing ran.
    return (
        alt.Chart(df, height=_HEIGHT)
        .mark_bar()
        .encode(
            x=alt.X(
                "start:O",
                title=None,
                timeUnit="yearmonthdatehoursminutes",
                axis=alt.Axis(format=time_format, labelOverlap=True, labelAngle=0),
            ),
            y=alt.Y("sum(usd):Q", title="USD", stack="zero"),
            color=alt.Color("agent:N", title="agent"),
            tooltip=[
                alt.Tooltip("start:T", title=resolution, format=f"%Y-%m-%d {time_format}"),
                alt.Tooltip("agent:N"),
                alt.Tooltip("spend:N", title="spend"),
                alt.Tooltip("calls:Q", format=","),
            ],
        )
    )


def ranked_bars(df: pd.DataFrame, label: str) -> alt.Chart:
    """Horizontal bars, costliest on top (columns: name, usd, spend, share, calls)."""
    order = list(df["name"])
    return (
        alt.Chart(df, height=max(120, 24 * len(df)))
        .mark_bar()
        .encode(
            x=alt.X("usd:Q", title="USD"),
            y=alt.Y("name:N", sort=order, title=label),
            tooltip=[
                alt.Tooltip("name:N", title=label),
                alt.Tooltip("spend:N", title="spend"),
                alt.Tooltip("share:N", title="share"),
                alt.Tooltip("calls:Q", format=","),
            ],
        )
    )


def movers(df: pd.DataFrame) -> alt.Chart:
    """Diverging bars of the change against the previous period (columns: label, delta_usd,
    change, now, before)."""
    return (
        alt.Chart(df, height=max(120, 24 * len(df)))
        .mark_bar()
        .encode(
            x=alt.X("delta_usd:Q", title="change, USD"),
            y=alt.Y("label:N", sort=list(df["label"]), title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.condition(
                alt.datum.delta_usd > 0, alt.value("#d62728"), alt.value("#2ca02c")
            ),
            tooltip=["label:N", "change:N", "now:N", "before:N"],
        )
    )


def utilization(df: pd.DataFrame) -> alt.Chart:
    """Budget utilization bars with the 100 % line (columns: budget, pct, status, spent,
    limit, resets)."""
    bars = (
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("pct:Q", title="% of limit used"),
            y=alt.Y("budget:N", sort=list(df["budget"]), title=None, axis=alt.Axis(labelLimit=260)),
            color=alt.Color("status:N", scale=_STATUS_COLORS),
            tooltip=["budget:N", "spent:N", "limit:N", "pct:Q", "status:N", "resets:N"],
        )
    )
    rule = alt.Chart(pd.DataFrame({"x": [100]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (bars + rule).properties(height=max(120, 28 * len(df)))


def waterfall(df: pd.DataFrame) -> alt.Chart:
    """One bar per span from its start to its end, in tree order (columns: label (unique),
    start_ms, end_ms, kind, duration, cost, model, tokens, status)."""
    colors = alt.Scale(
        domain=["model call", "unpriced call", "tool / other", "error"],
        range=["#1f77b4", "#9467bd", "#b0b0b0", "#d62728"],
    )
    return (
        alt.Chart(df, height=max(160, 22 * len(df)))
        .mark_bar()
        .encode(
            x=alt.X("start_ms:Q", title="ms since the trace started"),
            x2="end_ms:Q",
            y=alt.Y(
                "label:N",
                sort=list(df["label"]),
                axis=alt.Axis(labelLimit=320, labelOverlap=False),
                title=None,
            ),
            color=alt.Color("kind:N", scale=colors, title=None),
            tooltip=["label:N", "duration:N", "cost:N", "model:N", "tokens:N", "status:N"],
        )
    )
