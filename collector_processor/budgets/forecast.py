"""Burn-rate forecast: where the spend of a window ends if the recent rate holds.

The rate is measured over the recent part of the window — the last eighth of its length,
or everything since the window started when less has elapsed — so a quiet morning does not
hide an afternoon burst, and one expensive call does not dominate a month.  Integer maths
on nanoseconds and nano-USD: no float rounding in money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from collector_processor.budgets.windows import BudgetWindow, minute_of

RATE_LOOKBACK_DIVISOR = 8  # the rate is measured over the last 1/8 of the window's length
# A projection needs this much of the window behind it (1/48: 75 s of an hour, 30 min of a
# day, 3.5 h of a week): earlier, a single call extrapolates to nonsense.
MIN_ELAPSED_DIVISOR = 48
_US = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Projected end-of-window spend, and when the limit runs out at the current rate."""

    projected_nanousd: int
    exhaustion_at: datetime | None  # None: not before the window ends (or already spent)
    rate_nanousd_per_hour: int


def recent_start_minute(window: BudgetWindow, now: datetime) -> int:
    """First UTC minute of the period the burn rate is measured over."""
    lookback_start = max(window.start, now - window.length / RATE_LOOKBACK_DIVISOR)
    return minute_of(lookback_start)


def forecast(
    spent_nanousd: int,
    limit_nanousd: int,
    recent_nanousd: int,
    recent_start: datetime,
    now: datetime,
    window: BudgetWindow,
) -> Forecast:
    """Project the window's spend from the rate over [recent_start, now]."""
    now = min(max(now, window.start), window.end)
    measured_us = max((now - recent_start) // _US, 1)
    remaining_us = max((window.end - now) // _US, 0)
    projected = spent_nanousd + recent_nanousd * remaining_us // measured_us
    rate_per_hour = recent_nanousd * 3_600_000_000 // measured_us
    exhaustion = None
    if recent_nanousd > 0 and spent_nanousd < limit_nanousd < projected:
        # ceil: the limit is reached at the first microsecond the spend gets there
        until_us = -((spent_nanousd - limit_nanousd) * measured_us // recent_nanousd)
        exhaustion = now + timedelta(microseconds=until_us)
    return Forecast(projected, exhaustion, rate_per_hour)


def can_project(window: BudgetWindow, now: datetime) -> bool:
    """Enough of the window has elapsed for a projected alert to mean something."""
    return now - window.start >= window.length / MIN_ELAPSED_DIVISOR
