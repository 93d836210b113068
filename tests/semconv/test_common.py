"""Token coercion, inclusivity split, money and time helpers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from semconv.dialects.common import (
    MAX_TOKENS_PER_CALL,
    InvalidCall,
    coerce_tokens,
    iso_to_ns,
    micro_usd,
    split_inclusive_input,
    stable_id,
    usd,
    user_hints,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (1200, 1200),
        ("1200", 1200),
        (" 42 ", 42),
        (1200.0, 1200),
        (MAX_TOKENS_PER_CALL,) * 2,
    ],
)
def test_coerce_tokens_accepts_integers_in_any_encoding(value: Any, expected: int) -> None:
    assert coerce_tokens("x", value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-1, "x is -1: token counts cannot be negative"),
        ("-5", "x is -5: token counts cannot be negative"),
        (MAX_TOKENS_PER_CALL + 1, "x is 100000001: above the limit of 100,000,000 tokens per call"),
        (1e12, "above the limit"),
        (12.5, "x is 12.5: token counts must be integers"),
        ("12.5", "x is '12.5': token counts must be integers"),
        ("many", "token counts must be integers"),
        (True, "x is True: token counts must be integers"),
        ([1, 2], "token counts must be integers"),
        (float("nan"), "token counts must be integers"),
    ],
)
def test_coerce_tokens_rejects_unusable_values_with_a_reason(value: Any, reason: str) -> None:
    with pytest.raises(InvalidCall, match="^x is ") as caught:
        coerce_tokens("x", value)
    assert reason in str(caught.value)


@pytest.mark.parametrize(
    ("total", "read", "write", "expected"),
    [
        (1200, 1000, 0, (200, False)),
        (1200, 1000, 200, (0, False)),
        (1200, 5000, 800, (1200, True)),  # impossible inclusively: raw Anthropic usage
        (0, 0, 0, (0, False)),
    ],
)
def test_split_inclusive_input(
    total: int, read: int, write: int, expected: tuple[int, bool]
) -> None:
    assert split_inclusive_input(total, read, write) == expected


def test_stable_id_is_deterministic_and_sensitive_to_every_part() -> None:
    assert stable_id("p", "s", 1, 2) == stable_id("p", "s", 1, 2)
    assert stable_id("p", "s", 1, 2) != stable_id("p", "s", 2, 1)
    assert stable_id("p", "s", 1, 2).startswith("p:")
    assert stable_id("p", "s", 1) != stable_id("q", "s", 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.021, Decimal("0.021")),
        (0.020999999999999998, Decimal("0.020999999999999998")),
        (3, Decimal(3)),
        ("0.5", Decimal("0.5")),
        (None, None),
        (True, None),
        (float("inf"), None),
        ("abc", None),
        ("NaN", None),
    ],
)
def test_usd(value: Any, expected: Decimal | None) -> None:
    assert usd(value) == expected


def test_micro_usd_is_exact() -> None:
    assert micro_usd(21000) == Decimal("0.021")
    assert micro_usd(0.5) is None


def test_iso_to_ns_keeps_milliseconds_exactly() -> None:
    assert iso_to_ns("2026-11-22T23:48:52.802Z") == 1_795_391_332_802_000_000
    assert iso_to_ns("2026-11-22T23:48:52") == 0  # no zone: no defined instant
    assert iso_to_ns("yesterday") == 0
    assert iso_to_ns(None) == 0


def test_user_hints_follow_precedence_and_fall_back_to_the_resource() -> None:
    attrs = {"user.account_uuid": "acc-1", "user.id": "u-1", "user.email": ""}
    resource = {"user.email": "dev@example.com", "enduser.id": 7}
    assert user_hints(attrs, resource) == (
        ("user.id", "u-1"),
        ("user.email", "dev@example.com"),
        ("enduser.id", "7"),
        ("user.account_uuid", "acc-1"),
    )
