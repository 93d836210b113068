"""Price one canonical LLM call: a pure function of (call, price book) -> integer nano-USD."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from collector_processor.pricing.book import PriceBook
from collector_processor.pricing.catalog import ModelRates, PriceCatalog
from collector_processor.pricing.model_ids import lookup_candidates, provider_id_for
from semconv.dialects.usage import usage_missing
from semconv.records import GRANULARITY_AGGREGATE, LlmCall

_NANOUSD_DIGITS_PER_USD_PER_MTOK = 3  # tokens x (USD / 1e6 tokens) x 1e9 nano-USD/USD = 1e3
_NANOS_PER_SECOND = 1_000_000_000
_CANDIDATE_CACHE_SIZE = 8192  # distinct (provider, model) names seen; telemetry-controlled
# Price.reason of a call whose telemetry reported no token counts (see semconv.dialects.usage).
NO_USAGE_REASON = "no usage reported"


@dataclass(frozen=True, slots=True)
class Price:
    """What a call costs; cost_nanousd None means UNPRICED (never read it as $0)."""

    cost_nanousd: int | None
    price_version: str
    provider_id: str
    priced_model: str  # the catalog's model id; "" when the model has no price
    reason: str = ""  # why unpriced; "" when priced

    @property
    def priced(self) -> bool:
        """Whether a cost was determined."""
        return self.cost_nanousd is not None


class Pricer:
    """Prices LlmCalls against a price book, at the rates in force when each call started.

    The book is swapped whole by `use` (the refresher does it when stored prices change);
    `price` reads it once, so a call never mixes two books.
    """

    def __init__(self, prices: PriceCatalog | PriceBook) -> None:
        self._book = prices if isinstance(prices, PriceBook) else PriceBook.of(prices)
        self._candidates = functools.lru_cache(maxsize=_CANDIDATE_CACHE_SIZE)(lookup_candidates)

    @property
    def book(self) -> PriceBook:
        """The price book in use."""
        return self._book

    def candidates(self, provider: str, model: str) -> tuple[tuple[str, str], ...]:
        """The (provider id, model ref) lookups a call of this provider and model tries."""
        return self._candidates(provider, model)

    def use(self, book: PriceBook) -> None:
        """Price every later call against `book`."""
        self._book = book

    def price(
        self, call: LlmCall, org_id: int | None = None, workspace_id: int | None = None
    ) -> Price:
        """Price one call for a scope; unknown or missing models and unknown usage: unpriced."""
        book = self._book
        model = call.model
        at = _start_time(call.start_ns)
        if at is None:
            reason = f"start time out of range: {call.start_ns}"
            return Price(None, book.versions[0].label, provider_id_for(call.provider), "", reason)
        if not model.strip():
            reason = "no model reported"
            return Price(None, book.label_at(at), provider_id_for(call.provider), "", reason)
        if _min_tokens(call) < 0:
            reason = "negative token count"
            return Price(None, book.label_at(at), provider_id_for(call.provider), "", reason)
        candidates = self._candidates(call.provider, model)
        found = book.resolve(candidates, at, org_id, workspace_id)
        if usage_missing(call.extra):
            # Unknown tokens: no rate makes a cost.  The model is still resolved, so the call
            # is stored under the catalog's id beside its priced peers.
            ids = (found.provider_id, found.model_id) if found else (candidates[0][0], "")
            return Price(None, book.label_at(at), *ids, NO_USAGE_REASON)
        if found is not None:
            cost = cost_nanousd(call, found.rates)
            return Price(cost, found.price_version, found.provider_id, found.model_id)
        provider_id = candidates[0][0]
        where = book.describe_at(at)
        reason = f"model {model!r} (provider {provider_id or 'unknown'!r}) not in {where}"
        return Price(None, book.label_at(at), provider_id, "", reason)


def cost_nanousd(call: LlmCall, rates: ModelRates) -> int:
    """Cost of a call's tokens at `rates`, in nano-USD rounded once (half to even)."""
    # An AGGREGATE sums many calls: its total says nothing about any one request's size, so
    # it is billed at base rates rather than pushing every token over a long-context tier.
    is_one_request = call.granularity != GRANULARITY_AGGREGATE
    f = rates.for_request(call.total_input_tokens if is_one_request else 0).fixed_point
    cache_read_rate = f.input if f.cache_read is None else f.cache_read
    write_5m_rate = f.input if f.cache_write is None else f.cache_write
    write_1h_rate = write_5m_rate if f.cache_write_1h is None else f.cache_write_1h
    write_1h = min(call.cache_write_1h_tokens, call.cache_write_tokens)
    # Reasoning is part of output: split it off only when it has a price of its own.
    reasoning = 0 if f.output_reasoning is None else min(call.reasoning_tokens, call.output_tokens)
    reasoning_rate = f.output if f.output_reasoning is None else f.output_reasoning
    # Integer sum of tokens x (USD per Mtok x 10**exponent): exact, no rounding yet.
    scaled = (
        call.input_tokens * f.input
        + call.cache_read_tokens * cache_read_rate
        + (call.cache_write_tokens - write_1h) * write_5m_rate
        + write_1h * write_1h_rate
        + (call.output_tokens - reasoning) * f.output
        + reasoning * reasoning_rate
    )
    # USD/Mtok x tokens = 1e-6 USD = 1e3 nano-USD, so nano-USD = scaled x 10**(3 - exponent).
    return _shift_half_even(scaled, f.exponent - _NANOUSD_DIGITS_PER_USD_PER_MTOK)


def _shift_half_even(value: int, digits: int) -> int:
    """value / 10**digits rounded half to even (value >= 0); exact when digits <= 0."""
    if digits <= 0:
        return value * 10**-digits
    divisor = 10**digits
    quotient, remainder = divmod(value, divisor)
    if 2 * remainder > divisor or (2 * remainder == divisor and quotient % 2):
        quotient += 1
    return quotient


def _min_tokens(call: LlmCall) -> int:
    return min(
        call.input_tokens,
        call.cache_read_tokens,
        call.cache_write_tokens,
        call.cache_write_1h_tokens,
        call.output_tokens,
        call.reasoning_tokens,
    )


def _start_time(start_ns: int) -> datetime | None:
    """UTC start of a call; None when the stamp is outside what datetime can hold."""
    try:
        return datetime.fromtimestamp(start_ns // _NANOS_PER_SECOND, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
