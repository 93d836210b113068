"""Money display: integers inside, rounding happens once, here."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

NANO_PER_USD = 1_000_000_000
_MICRO = Decimal("0.000001")


def usd(nanousd: int) -> Decimal:
    """Exact dollars for an integer nano-USD amount."""
    return Decimal(nanousd) / NANO_PER_USD


def usd_str(nanousd: int) -> str:
    """Dollars rounded to the micro-dollar, as a decimal string: 21000000 -> '0.021000'."""
    return str(usd(nanousd).quantize(_MICRO, rounding=ROUND_HALF_EVEN))
