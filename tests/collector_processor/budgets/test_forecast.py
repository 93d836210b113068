"""Burn-rate forecast maths: projection, exhaustion time, when a projection is allowed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collector_processor.budgets.forecast import (
    can_project,
    forecast,
    recent_start_minute,
)
from collector_processor.budgets.windows import window_at

USD = 1_000_000_000
DAY = window_at("day", datetime(2026, 11, 23, 12, tzinfo=UTC), "UTC")


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


def test_projection_and_exhaustion_from_recent_rate() -> None:
    # $6 in the last 3 h (1/8 of the day) = $2/h; $20 spent, 12 h left -> $44 by midnight,
    # and the $40 limit is hit after (40 - 20) / 2 = 10 h.
    fc = forecast(20 * USD, 40 * USD, 6 * USD, at(9), at(12), DAY)
    assert fc.projected_nanousd == 44 * USD
    assert fc.rate_nanousd_per_hour == 2 * USD
    assert fc.exhaustion_at == at(22)


@pytest.mark.parametrize(
    ("spent", "limit", "recent", "projected", "exhausts"),
    [
        (20, 100, 6, 44, False),  # projected under the limit: no exhaustion
        (40, 40, 6, 64, False),  # already used up: nothing to forecast
        (50, 40, 6, 74, False),  # over
        (20, 40, 0, 20, False),  # idle: projection = spent
        (39, 40, 6, 63, True),
    ],
)
def test_forecast_table(
    spent: int, limit: int, recent: int, projected: int, exhausts: bool
) -> None:
    fc = forecast(spent * USD, limit * USD, recent * USD, at(9), at(12), DAY)
    assert fc.projected_nanousd == projected * USD
    assert (fc.exhaustion_at is not None) == exhausts


def test_exhaustion_rounds_up_to_the_microsecond() -> None:
    # 1 nano-USD left at 3 nano-USD per 3 h: one hour exactly.
    assert forecast(2, 3, 3, at(9), at(12), DAY).exhaustion_at == at(13)
    fc = forecast(0, 1, 7, at(9), at(12), DAY)  # 3 h / 7 = 1542857142.857 µs -> ceil
    assert fc.exhaustion_at == at(12) + timedelta(microseconds=1_542_857_143)


def test_rate_lookback_is_an_eighth_of_the_window_or_since_its_start() -> None:
    assert recent_start_minute(DAY, at(12)) == int(at(9).timestamp()) // 60
    assert recent_start_minute(DAY, at(1)) == DAY.start_minute
    hour = window_at("hour", at(12, 30), "UTC")
    assert recent_start_minute(hour, at(12, 30)) == int(at(12, 22).timestamp()) // 60


def test_projection_needs_a_48th_of_the_window() -> None:
    assert not can_project(DAY, at(0, 29))
    assert can_project(DAY, at(0, 30))


def test_now_outside_the_window_is_clamped() -> None:
    fc = forecast(10 * USD, 40 * USD, 10 * USD, at(21), at(23, 59) + timedelta(hours=5), DAY)
    assert fc.projected_nanousd == 10 * USD  # nothing of the window is left to spend in
