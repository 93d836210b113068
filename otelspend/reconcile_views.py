"""Text and JSON renderings of reconciliation results (CLI; the UI renders its own)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from collector_processor.reconcile.report import ReportRow
from otelspend.money import usd_str

_CENT = Decimal("0.01")


def report_header(by: str) -> str:
    """The header line of the report table."""
    return (
        f"{by:<28} {'billed':>11} {'captured':>11} {'delta':>11} {'capture':>8} "
        f"{'tokens':>7} {'traffic':>10} {'price':>10} {'unexpl.':>10}  verdict"
    )


def usd2(nano: int | None) -> str:
    """Dollars rounded to the cent ("—" for unknown)."""
    if nano is None:
        return "—"
    return str((Decimal(nano) / 1_000_000_000).quantize(_CENT, rounding=ROUND_HALF_EVEN))


def pct(rate: Decimal | None) -> str:
    """A rate as a percentage ("—" for unknown)."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _token_rate(r: ReportRow) -> Decimal | None:
    """Captured tokens ÷ billed tokens."""
    if r.billed_tokens is None or not r.billed_tokens.total:
        return None
    return Decimal(r.captured_tokens.total) / Decimal(r.billed_tokens.total)


def report_line(r: ReportRow) -> str:
    """One report row as a table line."""
    return (
        f"{r.group[:28]:<28} {usd2(r.billed_nanousd):>11} {usd2(r.captured_nanousd):>11} "
        f"{usd2(r.delta_nanousd):>11} {pct(r.capture_rate):>8} {pct(_token_rate(r)):>7} "
        f"{usd2(r.traffic_gap_nanousd):>10} {usd2(r.price_gap_nanousd):>10} "
        f"{usd2(r.unexplained_nanousd):>10}  {r.verdict}"
    )


def _money(nano: int | None) -> dict[str, Any]:
    """Exact nano-USD beside dollars rounded to the micro-dollar."""
    return {"usd": None if nano is None else usd_str(nano), "nanousd": nano}


def report_json(by: str, r: ReportRow) -> dict[str, Any]:
    """One report row as JSON (exact nano-USD beside rounded dollars)."""
    rate = r.capture_rate
    token_rate = _token_rate(r)
    return {
        by: r.group,
        "billed": _money(r.billed_nanousd),
        "captured": _money(r.captured_nanousd),
        "delta": _money(r.delta_nanousd),
        "capture_rate": None if rate is None else str(rate),
        "billed_tokens": None if r.billed_tokens is None else r.billed_tokens._asdict(),
        "captured_tokens": r.captured_tokens._asdict(),
        "token_capture_rate": None if token_rate is None else f"{token_rate:.4f}",
        "captured_calls": r.captured_calls,
        "unpriced_calls": r.unpriced_calls,
        "gap": {
            "uncaptured_traffic": _money(r.traffic_gap_nanousd),
            "price_difference": _money(r.price_gap_nanousd),
            "unexplained": _money(r.unexplained_nanousd),
            "verdict": r.verdict,
        },
    }
