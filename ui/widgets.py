"""Building blocks shared by the pages: time range, chart-beside-table, empty state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from collector_processor.budgets.windows import window_at
from otelspend.banner import banner
from ui.context import PageContext
from ui.state import bind, url_value

RANGES = {
    "1h": "Last hour",
    "6h": "Last 6 hours",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "today": "Today",
    "week": "This week",
    "month": "This month",
    "custom": "Custom",
}
_DURATIONS = {"1h": timedelta(hours=1), "6h": timedelta(hours=6), "24h": timedelta(days=1)}
_DURATIONS.update({"7d": timedelta(days=7), "30d": timedelta(days=30)})
_WINDOWS = {"today": "day", "week": "week", "month": "month"}


@dataclass(frozen=True)
class TimeRange:
    """[start, end) as aware UTC datetimes, the choice that made it and a label."""

    start: datetime
    end: datetime
    choice: str
    label: str

    @property
    def start_minute(self) -> int:
        """First UTC minute inside the range."""
        return int(self.start.timestamp()) // 60

    @property
    def end_minute(self) -> int:
        """First UTC minute after the range (a partial minute counts)."""
        return -(-int(self.end.timestamp()) // 60)

    @property
    def start_ns(self) -> int:
        """Start in nanoseconds."""
        return int(self.start.timestamp()) * 1_000_000_000

    @property
    def end_ns(self) -> int:
        """End in nanoseconds."""
        return int(self.end.timestamp() * 1_000_000) * 1000

    @property
    def minutes(self) -> int:
        """Length in minutes."""
        return max(1, self.end_minute - self.start_minute)


def parse_instant(text: str) -> datetime | None:
    """An ISO instant from a URL (no offset: UTC); None when unreadable."""
    try:
        moment = datetime.fromisoformat(text.replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def resolve_range(choice: str, ctx: PageContext, start: str = "", end: str = "") -> TimeRange:
    """The range a choice (or an explicit window_start/window_end) names, right now."""
    now = ctx.now()
    if choice in _DURATIONS:
        return TimeRange(now - _DURATIONS[choice], now, choice, RANGES[choice])
    if choice in _WINDOWS:
        w = window_at(_WINDOWS[choice], now, ctx.zone)
        return TimeRange(w.start, now, choice, f"{RANGES[choice]} ({w.local_label()})")
    s, e = parse_instant(start), parse_instant(end)
    if s is None:
        return resolve_range("7d", ctx)
    s, e = s.astimezone(UTC), (e if e is not None and e > s else now).astimezone(UTC)
    label = f"{s:%Y-%m-%d %H:%M} → {e:%Y-%m-%d %H:%M} UTC"
    return TimeRange(s, e, "custom", label)


def time_range(ctx: PageContext, page: str, default: str = "7d") -> TimeRange:
    """The range selector, bound to ?range= (or ?window_start=&window_end= for custom)."""
    start, end = url_value("window_start"), url_value("window_end")
    from_url = url_value("range", "custom" if start else default)
    bind(f"{page}_range", from_url if from_url in RANGES else default)
    choice = st.selectbox(
        "Time range", list(RANGES), format_func=RANGES.__getitem__, key=f"{page}_range"
    )
    if choice == "custom":
        picked = _custom(ctx, page, start, end)
        start, end = (d.isoformat() for d in picked)
    return resolve_range(choice, ctx, start, end)


def _custom(ctx: PageContext, page: str, start: str, end: str) -> tuple[datetime, datetime]:
    s = parse_instant(start) or ctx.now() - timedelta(days=7)
    e = parse_instant(end) or ctx.now()
    bind(f"{page}_from", s.date())
    bind(f"{page}_to", e.date())
    a, b = st.columns(2)
    d0 = a.date_input("From (UTC date)", key=f"{page}_from")
    d1 = b.date_input("To (UTC date, inclusive)", key=f"{page}_to")
    s2 = datetime(d0.year, d0.month, d0.day, tzinfo=UTC) if d0 != s.date() else s  # type: ignore[union-attr]
    e2 = (
        datetime(d1.year, d1.month, d1.day, tzinfo=UTC) + timedelta(days=1) if d1 != e.date() else e
    )  # type: ignore[union-attr]  # noqa: E501
    return s2, e2


def chart_and_table(
    chart: alt.Chart | alt.LayerChart | None,
    table: pd.DataFrame,
    columns: dict[str, Any] | None = None,
    *,
    key: str,
    ratio: tuple[int, int] = (3, 2),
    height: int | None = None,
) -> None:
    """The chart on the left, the same figures as a table on the right."""
    left, right = st.columns(ratio, gap="medium")
    if chart is not None:
        left.altair_chart(chart, width="stretch", key=f"{key}_chart")
    right.dataframe(
        table,
        column_config=columns,
        hide_index=True,
        width="stretch",
        height=height or "auto",
        key=f"{key}_table",
    )


def money_column(label: str, precise: bool = False) -> Any:
    """A sortable USD column: cents for totals, 4 decimals for single calls and traces."""
    return st.column_config.NumberColumn(label, format="$%.4f" if precise else "dollar")


def empty_state(ctx: PageContext, what: str) -> None:
    """No data yet: say what to do next — the settings to paste into an agent."""
    st.info(
        f"No {what} yet. Point an agent at otelspend's OTLP receiver (below), or load a demo "
        "company with `otelspend demo --days 30 --users 40`."
    )
    http = ctx.settings.otlp_http.rsplit(":", 1)
    grpc_port = int(ctx.settings.otlp_grpc.rsplit(":", 1)[1])
    text = banner(
        db=ctx.settings.db,
        host=http[0].split("//", 1)[1],
        grpc_port=grpc_port,
        http_port=int(http[1]),
        key="osk_…  (create one on Keys & onboarding)",
        no_auth=False,
    )
    st.code(text.split("\n\n", 1)[1] if "\n\n" in text else text, language="bash")
