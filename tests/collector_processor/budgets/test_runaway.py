"""The runaway rule on per-minute series (pure, table-driven)."""

from __future__ import annotations

import pytest

from collector_processor.budgets.runaway import Runaway, RunawayPolicy, detect

C = 10_000_000  # one cent in nano-USD
POLICY = RunawayPolicy(
    factor=5, min_nanousd_per_minute=100 * C, baseline_minutes=15, min_active_minutes=3
)


@pytest.mark.parametrize(
    ("series", "expected", "why"),
    [
        ({97: 20 * C, 98: 20 * C, 99: 20 * C, 100: 100 * C}, Runaway(100, 100 * C, 20 * C), "5x"),
        ({97: 20 * C, 98: 20 * C, 99: 20 * C, 100: 99 * C}, None, "under the $ floor"),
        ({97: 30 * C, 98: 30 * C, 99: 30 * C, 100: 140 * C}, None, "4.7x"),
        ({98: 1 * C, 99: 1 * C, 100: 500 * C}, None, "2 active minutes: no history"),
        (
            {86: 10 * C, 90: 10 * C, 99: 10 * C, 100: 100 * C},
            Runaway(100, 100 * C, 10 * C),
            "idle minutes do not dilute the baseline",
        ),
        ({84: 10 * C, 85: 10 * C, 99: 10 * C, 100: 100 * C}, None, "minute 84 is too old"),
        ({}, None, "nothing"),
    ],
)
def test_detect(series: dict[int, int], expected: Runaway | None, why: str) -> None:
    assert detect(series, 100, POLICY) == expected, why


def test_ratio_and_policy_validation() -> None:
    assert Runaway(1, 150, 10).ratio == 15
    with pytest.raises(ValueError):
        RunawayPolicy(factor=1)
    with pytest.raises(ValueError):
        RunawayPolicy(baseline_minutes=2, min_active_minutes=3)
