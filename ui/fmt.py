"""How the UI writes money, tokens, times and durations — one place, so every page agrees.

Money stays integer nano-USD until here; otelspend.money turns it into exact dollars and
this module rounds once for display: cents from $1 up, four decimals below (a single call
often costs a fraction of a cent).  Tables get dollars as numbers (sortable) via `dollars`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from otelspend.money import usd

_CENT = Decimal("0.01")
_SUB_CENT = Decimal("0.0001")
NS_PER_S = 1_000_000_000


def money(nanousd: int | None) -> str:
    """'$1,234.57', '$0.0210', '$0.00'; None (an unpriced call) -> 'unpriced'."""
    if nanousd is None:
        return "unpriced"
    amount = usd(nanousd)
    step = _CENT if abs(amount) >= 1 or amount == 0 else _SUB_CENT
    rounded = amount.quantize(step, rounding=ROUND_HALF_EVEN)
    sign = "-" if rounded < 0 else ""
    return f"{sign}${abs(rounded):,}"


def signed_money(nanousd: int) -> str:
    """'+$12.00' / '-$3.50': a change."""
    return ("+" if nanousd > 0 else "") + money(nanousd)


def dollars(nanousd: int | None) -> float | None:
    """Dollars as a float for table columns and charts only (display; sums stay integers)."""
    return None if nanousd is None else float(usd(nanousd))


def tokens(n: int) -> str:
    """'1,234,567' tokens; compact '1.2M' is for charts."""
    return f"{n:,}"


def when(ns_or_dt: int | datetime, zone: str) -> str:
    """A moment in the org's zone: '2026-11-23 14:05:09 CET'."""
    moment = (
        ns_or_dt
        if isinstance(ns_or_dt, datetime)
        else datetime.fromtimestamp(ns_or_dt / NS_PER_S, UTC)
    )
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")


def local(ns: int, zone: str) -> datetime:
    """A nanosecond timestamp as a naive local datetime (for table datetime columns)."""
    return (
        datetime.fromtimestamp(ns / NS_PER_S, UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    )


def duration(ns: int) -> str:
    """'850 ms', '12.4 s', '3 min 05 s', '2 h 01 min'."""
    if ns < NS_PER_S:
        return f"{ns / 1e6:.0f} ms"
    s = ns / NS_PER_S
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(int(s), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def pct(part: int, whole: int) -> str:
    """'54.2%' of a whole ('–' when the whole is 0)."""
    return "–" if not whole else f"{100 * part / whole:.1f}%"
