"""Report arithmetic: billed, captured, delta, capture rate, and the gap's explanation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from collector_processor.reconcile.report import (
    Tokens,
    build_report,
    model_key,
    split_gap,
)
from store.reconcile_queries import BilledSum, CapturedSum

USD = 1_000_000_000
M = 1_000_000
# $3/M input, $15/M output (Sonnet-like list prices).
RATES = {"input": 3 * USD // M, "output": 15 * USD // M}


def billed(
    day: str, cost: int | None, tokens: Tokens | None, *, by_class: bool = True, **kw: str
) -> BilledSum:
    class_costs = {}
    if by_class and tokens is not None:
        class_costs = {
            "input": tokens.input * RATES["input"],
            "output": tokens.output * RATES["output"],
        }
    return BilledSum(
        day,
        kw.get("provider", "anthropic"),
        kw.get("workspace", "platform"),
        kw.get("model", "claude-sonnet-4-5-20250929"),
        cost,
        tokens,
        class_costs,
    )


def captured(day: str, cost: int, tokens: Tokens, **kw: str) -> CapturedSum:
    return CapturedSum(
        day,
        kw.get("provider", "anthropic"),
        kw.get("workspace", "platform"),
        kw.get("model", "claude-sonnet-4-5"),
        cost,
        tokens,
        calls=10,
        unpriced_calls=0,
    )


def test_gap_from_uncaptured_traffic() -> None:
    # Billed 1M in / 100k out = $4.50; captured 80% of it, priced the same.
    rows = build_report(
        [billed("2026-11-02", 4_500_000_000, Tokens(input=M, output=100_000))],
        [captured("2026-11-02", 3_600_000_000, Tokens(input=800_000, output=80_000))],
        "day",
    )
    day, total = rows
    assert day.group == "2026-11-02" and total.group == "TOTAL"
    assert (day.billed_nanousd, day.captured_nanousd, day.delta_nanousd) == (
        4_500_000_000,
        3_600_000_000,
        900_000_000,
    )
    assert day.capture_rate == Decimal("0.8000")
    assert (day.traffic_gap_nanousd, day.price_gap_nanousd) == (900_000_000, 0)
    assert day.verdict == "uncaptured traffic"
    assert total.delta_nanousd == day.delta_nanousd


def test_gap_from_price_differences() -> None:
    tokens = Tokens(input=M, output=100_000)
    rows = build_report(
        [billed("2026-11-02", 4_500_000_000, tokens)],
        [captured("2026-11-02", 4_000_000_000, tokens)],  # otelspend priced it $0.50 lower
        "provider",
    )
    assert rows[0].group == "anthropic"
    assert (rows[0].traffic_gap_nanousd, rows[0].price_gap_nanousd) == (0, 500_000_000)
    assert rows[0].verdict == "price difference (bill higher)"


def test_without_class_costs_the_cell_rate_is_used() -> None:
    # $10 for 1M tokens: every missing token is worth $0.00001.
    rows = build_report(
        [billed("d", 10 * USD, Tokens(input=M), by_class=False)],
        [captured("d", 9 * USD, Tokens(input=900_000))],
        "day",
    )
    assert (rows[0].traffic_gap_nanousd, rows[0].price_gap_nanousd) == (USD, 0)


def test_matches_within_tolerance_and_over_capture() -> None:
    rows = build_report(
        [
            billed("d1", 4_500_000_000, Tokens(input=M, output=100_000)),
            billed("d2", USD, Tokens(input=100_000), by_class=False),
        ],
        [
            captured("d1", 4_480_000_000, Tokens(input=M, output=100_000)),
            captured("d2", 2 * USD, Tokens(input=200_000)),
        ],
        "day",
    )
    verdicts = {r.group: r.verdict for r in rows}
    assert verdicts["d1"] == "matches"
    assert verdicts["d2"] == "captured traffic not on this bill"
    assert rows[-1].delta_nanousd == 4_500_000_000 + USD - 4_480_000_000 - 2 * USD


def test_cost_without_usage_is_unexplained_and_usage_without_cost_has_no_delta() -> None:
    rows = build_report(
        [billed("d1", 5 * USD, None), billed("d2", None, Tokens(input=10))],
        [captured("d1", 2 * USD, Tokens(input=5)), captured("d2", 0, Tokens(input=10))],
        "day",
    )
    d1, d2, total = rows
    assert d1.unexplained_nanousd == 3 * USD and d1.traffic_gap_nanousd is None
    assert d1.verdict == "gap; import a usage report to explain it"
    assert d2.delta_nanousd is None and d2.capture_rate is None
    assert d2.verdict == "no billed cost imported"
    assert total.billed_nanousd == 5 * USD and total.billed_tokens == Tokens(input=10)


def test_groups_by_model_workspace_and_unmatched_sides() -> None:
    cells = [
        billed("d", 2 * USD, None, model="claude-sonnet-4-5-20250929"),
        billed("d", USD, None, model="", workspace="unmapped:anthropic:unassigned"),
    ]
    seen = [
        captured("d", 2 * USD, Tokens(), model="claude-sonnet-4-5"),
        captured("d", USD // 2, Tokens(), provider="openai", model="gpt-4o", workspace="research"),
    ]
    by_model = {
        r.group: (r.billed_nanousd, r.captured_nanousd) for r in build_report(cells, seen, "model")
    }
    assert by_model == {
        "claude-sonnet-4-5": (2 * USD, 2 * USD),
        "(not in export)": (USD, 0),
        "gpt-4o": (None, USD // 2),
        "TOTAL": (3 * USD, 5 * USD // 2),
    }
    by_ws = [r.group for r in build_report(cells, seen, "workspace")]
    assert by_ws == ["platform", "unmapped:anthropic:unassigned", "research", "TOTAL"]
    with pytest.raises(ValueError, match="group by"):
        build_report(cells, seen, "week")


def test_split_gap_and_model_keys() -> None:
    billed_tokens, seen = Tokens(input=M, output=M), Tokens(input=M, output=0)
    # Class costs known: only the missing output is traffic, at the output rate.
    assert (
        split_gap(18 * USD, billed_tokens, seen, {"input": 3 * USD, "output": 15 * USD}) == 15 * USD
    )
    assert split_gap(0, Tokens(), Tokens(), {}) == 0
    assert model_key("anthropic", "claude-sonnet-4-5-20250929") == "claude-sonnet-4-5"
    assert model_key("openai", "openai/gpt-4o-2024-08-06") == "gpt-4o"
    assert model_key("", "claude-opus-4-1[1m]") == "claude-opus-4-1"
