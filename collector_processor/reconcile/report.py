"""Reconciliation maths: billed vs captured per group, and where a gap comes from (pure).

Input: the store's per-(UTC day, provider, workspace, model) sums (store.reconcile_queries).

A gap (billed - captured) is split, where the provider reports token counts, into
  uncaptured traffic = Σ over token classes of billed rate × (billed tokens - captured tokens)
  price difference   = the rest (what the provider charged for the traffic otelspend saw,
                       minus what otelspend priced it at).
The billed rate of a class is its billed cost ÷ its billed tokens when the cost export names
token classes (Anthropic token_type, OpenAI "model, input" line items), else the billed
cost per token of the cell.  The split is made per (UTC day, provider, group) cell, where
both sides are comparable, and summed; cells with no billed token counts stay "unexplained".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import NamedTuple

from collector_processor.pricing.model_ids import normalize_model_id, provider_id_for
from store.reconcile_queries import BilledSum, CapturedSum

REPORT_GROUPINGS = ("day", "model", "workspace", "provider")
_DATE_SUFFIX = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_MATCH_TOLERANCE = Decimal("0.01")  # within 1% (or one cent) the sides "match"
_ONE_CENT_NANOUSD = 10_000_000
_RATE_PLACES = Decimal("0.0001")


class Tokens(NamedTuple):
    """Token counts by class (input is uncached input)."""

    input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        """All tokens."""
        return self.input + self.cache_read + self.cache_write + self.output

    def plus(self, other: Tokens) -> Tokens:
        """Class-wise sum."""
        return Tokens(*(a + b for a, b in zip(self, other, strict=True)))


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One group of the report; money in integer nano-USD."""

    group: str
    billed_nanousd: int | None
    captured_nanousd: int
    billed_tokens: Tokens | None
    captured_tokens: Tokens
    captured_calls: int
    unpriced_calls: int
    traffic_gap_nanousd: int | None  # part of the gap from traffic otelspend did not see
    price_gap_nanousd: int | None  # part from pricing the seen traffic differently
    unexplained_nanousd: int  # gap in cells without billed token counts

    @property
    def delta_nanousd(self) -> int | None:
        """Billed minus captured (positive: the bill is higher)."""
        return None if self.billed_nanousd is None else self.billed_nanousd - self.captured_nanousd

    @property
    def capture_rate(self) -> Decimal | None:
        """Captured ÷ billed, to 4 places (None without a billed cost)."""
        if not self.billed_nanousd:
            return None
        rate = Decimal(self.captured_nanousd) / Decimal(self.billed_nanousd)
        return rate.quantize(_RATE_PLACES, rounding=ROUND_HALF_EVEN)

    @property
    def verdict(self) -> str:
        """Where the gap comes from, in words."""
        return verdict(self)


def model_key(provider: str, model: str) -> str:
    """A model id both sides agree on: no vendor prefix, context marker or date suffix."""
    if not model:
        return ""
    return _DATE_SUFFIX.sub("", normalize_model_id(provider, model)[1])


def provider_key(provider: str) -> str:
    """A provider id both sides agree on ("" stays "")."""
    return provider_id_for(provider) if provider else ""


class _Acc:
    """Running sums of one group."""

    def __init__(self) -> None:
        self.billed: int | None = None
        self.billed_tokens: Tokens | None = None
        self.captured = 0
        self.captured_tokens = Tokens()
        self.calls = self.unpriced = 0
        self.traffic: int | None = None
        self.price: int | None = None
        self.unexplained = 0


def build_report(
    billed: Iterable[BilledSum], captured: Iterable[CapturedSum], by: str
) -> list[ReportRow]:
    """Rows per group (largest bill first), then a TOTAL row."""
    if by not in REPORT_GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(REPORT_GROUPINGS)}")
    cells: dict[tuple[str, str, str], tuple[list[BilledSum], list[CapturedSum]]] = {}
    for b in billed:
        cells.setdefault(_cell_key(b, by), ([], []))[0].append(b)
    for c in captured:
        cells.setdefault(_cell_key(c, by), ([], []))[1].append(c)
    groups: dict[str, _Acc] = {}
    total = _Acc()
    for (_, _, group), (bs, cs) in sorted(cells.items()):
        for acc in (groups.setdefault(group, _Acc()), total):
            _add_cell(acc, bs, cs)
    rows = [_row(g, acc) for g, acc in groups.items() if not _empty(acc)]
    if by == "day":
        rows.sort(key=lambda r: r.group)
    else:
        rows.sort(key=lambda r: (-(r.billed_nanousd or 0), -r.captured_nanousd, r.group))
    return [*rows, _row("TOTAL", total)]


def _empty(acc: _Acc) -> bool:
    """Nothing billed, nothing captured: a row would only be noise."""
    no_tokens = acc.billed_tokens is None or acc.billed_tokens.total == 0
    return not acc.billed and not acc.captured and not acc.captured_tokens.total and no_tokens


def _cell_key(cell: BilledSum | CapturedSum, by: str) -> tuple[str, str, str]:
    provider = provider_key(cell.provider)
    group = {
        "day": cell.day,
        "provider": provider or "(unknown)",
        "workspace": cell.workspace,
        "model": model_key(cell.provider, cell.model) or "(not in export)",
    }[by]
    return cell.day, provider, group


def _add_cell(acc: _Acc, billed: list[BilledSum], captured: list[CapturedSum]) -> None:
    """Fold one comparable cell into a group's sums, splitting its gap."""
    costs = [b.cost_nanousd for b in billed if b.cost_nanousd is not None]
    usage = [Tokens(*b.tokens) for b in billed if b.tokens is not None]
    cost = sum(costs) if costs else None
    tokens = _sum_tokens(usage) if usage else None
    seen_cost = sum(c.cost_nanousd for c in captured)
    seen_tokens = _sum_tokens(Tokens(*c.tokens) for c in captured)
    if cost is not None:
        acc.billed = (acc.billed or 0) + cost
    if tokens is not None:
        acc.billed_tokens = tokens if acc.billed_tokens is None else acc.billed_tokens.plus(tokens)
    acc.captured += seen_cost
    acc.captured_tokens = acc.captured_tokens.plus(seen_tokens)
    acc.calls += sum(c.calls for c in captured)
    acc.unpriced += sum(c.unpriced_calls for c in captured)
    if cost is None:
        return
    if tokens is None:
        acc.unexplained += cost - seen_cost
        return
    class_costs: dict[str, int] = {}
    for b in billed:
        for k, v in b.class_costs.items():
            class_costs[k] = class_costs.get(k, 0) + v
    traffic = split_gap(cost, tokens, seen_tokens, class_costs)
    acc.traffic = (acc.traffic or 0) + traffic
    acc.price = (acc.price or 0) + (cost - seen_cost - traffic)


def split_gap(cost: int, billed: Tokens, seen: Tokens, class_costs: dict[str, int]) -> int:
    """The part of a cell's gap (nano-USD) due to traffic billed but not captured."""
    classed = {c: v for c, v in class_costs.items() if c in Tokens._fields and getattr(billed, c)}
    traffic = Decimal(0)
    for name, class_cost in classed.items():
        billed_n = getattr(billed, name)
        traffic += Decimal(class_cost) * (billed_n - getattr(seen, name)) / billed_n
    # The rest of the bill (token classes the export does not price, tools, fees) is taken
    # to follow the rest of the traffic: what share of it was not captured, that share.
    rest_cost = cost - sum(classed.values())
    rest = [name for name in Tokens._fields if name not in classed]
    rest_billed = sum(getattr(billed, name) for name in rest)
    rest_seen = sum(getattr(seen, name) for name in rest)
    if rest_billed:
        traffic += Decimal(rest_cost) * (rest_billed - rest_seen) / rest_billed
    elif billed.total:
        traffic += Decimal(rest_cost) * (billed.total - seen.total) / billed.total
    return int(traffic.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _sum_tokens(items: Iterable[Tokens]) -> Tokens:
    total = Tokens()
    for t in items:
        total = total.plus(t)
    return total


def _row(group: str, acc: _Acc) -> ReportRow:
    return ReportRow(
        group=group,
        billed_nanousd=acc.billed,
        captured_nanousd=acc.captured,
        billed_tokens=acc.billed_tokens,
        captured_tokens=acc.captured_tokens,
        captured_calls=acc.calls,
        unpriced_calls=acc.unpriced,
        traffic_gap_nanousd=acc.traffic,
        price_gap_nanousd=acc.price,
        unexplained_nanousd=acc.unexplained,
    )


def verdict(row: ReportRow) -> str:
    """Say whether a gap is within tolerance, uncaptured traffic or a price difference."""
    delta = row.delta_nanousd
    if delta is None:
        return "no billed cost imported"
    relative = int(abs(Decimal(row.billed_nanousd or 0)) * _MATCH_TOLERANCE)
    tolerance = max(_ONE_CENT_NANOUSD, relative)
    if not row.captured_nanousd and row.billed_nanousd:
        return "uncaptured traffic (nothing captured)"
    if abs(delta) <= tolerance:
        return "matches"
    traffic, price = row.traffic_gap_nanousd or 0, row.price_gap_nanousd or 0
    if abs(row.unexplained_nanousd) > abs(traffic) + abs(price):
        return "gap; import a usage report to explain it"
    if abs(traffic) >= abs(price):
        return "uncaptured traffic" if traffic > 0 else "captured traffic not on this bill"
    if price > 0 and row.unpriced_calls:
        return f"price difference ({row.unpriced_calls} captured calls are unpriced)"
    return "price difference (bill higher)" if price > 0 else "price difference (bill lower)"
