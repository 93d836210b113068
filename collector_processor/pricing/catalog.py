"""Price catalogs: the per-token rates in force for a model at a moment.

`GenaiPricesCatalog` reads the pinned genai-prices package data.  It reuses that package's
own model matching, price history and tier definitions, and converts its prices into
`ModelRates`, the only price shape the pricing engine knows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from importlib.metadata import version as package_version
from typing import TYPE_CHECKING, Protocol

from genai_prices import types as gp
from genai_prices.data_snapshot import find_provider_by_id

if TYPE_CHECKING:
    from collector_processor.pricing.listing import CatalogEntry

# Model ids come from telemetry, so they are unbounded: cap the memo tables.
_MATCH_CACHE_SIZE = 8192

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class FixedPointRates:
    """ModelRates as integers: each rate times 10**exponent (exact), None where absent."""

    exponent: int
    input: int
    cache_read: int | None
    cache_write: int | None
    cache_write_1h: int | None
    output: int
    output_reasoning: int | None


@dataclass(frozen=True, slots=True)
class LongContextTier:
    """Rates billed on EVERY token of a request whose total input exceeds `threshold_tokens`."""

    threshold_tokens: int
    rates: ModelRates


@dataclass(frozen=True, slots=True)
class ModelRates:
    """USD per million tokens for one model at one moment.

    A rate of None means the catalog has no distinct price for that token class (the engine
    then bills it at the class it is a part of: cache tokens at input, 1-hour cache writes at
    5-minute writes, reasoning at output).  `long_context` is sorted by ascending threshold.
    """

    provider_id: str
    model_id: str
    input_usd_per_mtok: Decimal
    cache_read_usd_per_mtok: Decimal | None
    cache_write_usd_per_mtok: Decimal | None
    cache_write_1h_usd_per_mtok: Decimal | None
    output_usd_per_mtok: Decimal
    output_reasoning_usd_per_mtok: Decimal | None = None
    long_context: tuple[LongContextTier, ...] = ()
    # Derived once here so the hot path multiplies plain integers.
    fixed_point: FixedPointRates = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rates = [rate for rate in self.all_rates() if rate is not None]
        if any(not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0 for rate in rates):
            raise ValueError(f"rates must be finite and non-negative: {self!r}")
        thresholds = [tier.threshold_tokens for tier in self.long_context]
        if thresholds != sorted(set(thresholds)) or any(t < 0 for t in thresholds):
            raise ValueError(f"long-context thresholds must be ascending and >= 0: {thresholds}")
        object.__setattr__(self, "fixed_point", _fixed_point(self))

    def all_rates(self) -> tuple[Decimal | None, ...]:
        """Every rate of this tier, in field order."""
        return (
            self.input_usd_per_mtok,
            self.cache_read_usd_per_mtok,
            self.cache_write_usd_per_mtok,
            self.cache_write_1h_usd_per_mtok,
            self.output_usd_per_mtok,
            self.output_reasoning_usd_per_mtok,
        )

    def for_request(self, total_input_tokens: int) -> ModelRates:
        """Return the rates for a request with this many input tokens (cached ones included)."""
        for tier in reversed(self.long_context):
            if total_input_tokens > tier.threshold_tokens:
                return tier.rates
        return self


def _fixed_point(r: ModelRates) -> FixedPointRates:
    """Scale every rate by the smallest power of ten that makes them all integers."""
    exponent = max(_decimal_places(rate) for rate in r.all_rates() if rate is not None)
    scale = 10**exponent

    def scaled(rate: Decimal | None) -> int | None:
        return None if rate is None else int(rate * scale)

    return FixedPointRates(
        exponent=exponent,
        input=int(r.input_usd_per_mtok * scale),
        cache_read=scaled(r.cache_read_usd_per_mtok),
        cache_write=scaled(r.cache_write_usd_per_mtok),
        cache_write_1h=scaled(r.cache_write_1h_usd_per_mtok),
        output=int(r.output_usd_per_mtok * scale),
        output_reasoning=scaled(r.output_reasoning_usd_per_mtok),
    )


def _decimal_places(rate: Decimal) -> int:
    exponent = rate.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite, checked in ModelRates.__post_init__
    return max(0, -exponent)


class PriceCatalog(Protocol):
    """Where the pricing engine gets rates from."""

    @property
    def version(self) -> str:
        """Identify the price data, recorded on every priced call."""
        ...

    def lookup(self, provider_id: str, model_ref: str, at: datetime) -> ModelRates | None:
        """Return the rates in force at `at`, or None when the model is not in the catalog."""
        ...


_Match = tuple[gp.Provider, gp.ModelInfo]


class GenaiPricesCatalog:
    """The pinned genai-prices package data as a PriceCatalog (lookups memoized)."""

    def __init__(self, providers: Sequence[gp.Provider] | None = None, version: str = "") -> None:
        if providers is None:
            # The bundled data, never the package's auto-updated global snapshot: the version
            # string below must describe exactly the prices used.
            from genai_prices.data import providers as bundled

            providers = bundled
        self._providers = list(providers)
        self._version = version or f"genai-prices {package_version('genai-prices')}"
        self._find = functools.lru_cache(maxsize=_MATCH_CACHE_SIZE)(self._find_uncached)
        # (provider id, id(ModelPrice)) -> (that ModelPrice, kept alive so its id stays
        # unique; its rates).  Bounded by the size of the price data.
        self._converted: dict[tuple[str, int], tuple[gp.ModelPrice, ModelRates | None]] = {}
        self._by_id: dict[tuple[str, str], _Match] | None = None  # built on first listing

    @property
    def version(self) -> str:
        """Identify the price data, e.g. "genai-prices 0.2.3"."""
        return self._version

    @property
    def providers(self) -> list[gp.Provider]:
        """The genai-prices data this catalog reads."""
        return self._providers

    def entries(self) -> Iterator[CatalogEntry]:
        """Every model of the data, for listings and diffs (cold path)."""
        # Imported here: listing builds on this module's rate conversion.
        from collector_processor.pricing.listing import genai_entries

        return genai_entries(self._providers)

    def rates_for_entry(self, provider_id: str, model_id: str, at: datetime) -> ModelRates | None:
        """The rates of the model with exactly this catalog id (cold path: listings, diffs)."""
        if self._by_id is None:
            self._by_id = {(p.id, m.id): (p, m) for p in self._providers for m in p.models}
        found = self._by_id.get((provider_id, model_id))
        return None if found is None else self._convert(found[0], found[1], at)

    def lookup(self, provider_id: str, model_ref: str, at: datetime) -> ModelRates | None:
        """Return the rates in force at `at`, or None when the model is not in the catalog."""
        found = self._find(provider_id, model_ref)
        if found is None:
            return None
        return self._convert(found[0], found[1], at)

    def _convert(
        self, provider: gp.Provider, model: gp.ModelInfo, at: datetime
    ) -> ModelRates | None:
        # Cheap (a reverse scan of a few dated prices); evaluated per call because some
        # prices depend on the time of day (DeepSeek off-peak), not only on the date.
        price = model.get_prices(at)
        key = (provider.id, id(price))
        converted = self._converted.get(key)
        if converted is None:
            converted = (price, rates_from_model_price(provider.id, model.id, price))
            self._converted[key] = converted
        return converted[1]

    def _find_uncached(self, provider_id: str, model_ref: str) -> _Match | None:
        provider = self._provider(provider_id, model_ref)
        if provider is None:
            return None
        model = provider.find_model(model_ref, all_providers=self._providers)
        return None if model is None else (provider, model)

    def _provider(self, provider_id: str, model_ref: str) -> gp.Provider | None:
        if provider_id:
            return find_provider_by_id(self._providers, provider_id)
        for provider in self._providers:
            if provider.model_match is not None and provider.model_match.is_match(model_ref):
                return provider
        return None


def rates_from_model_price(
    provider_id: str, model_id: str, price: gp.ModelPrice
) -> ModelRates | None:
    """Convert one genai-prices price set; None when it prices no tokens (e.g. audio hours)."""
    values = {key: getattr(price, key, None) for key in _TOKEN_PRICE_KEYS}
    if all(value is None for value in values.values()):
        if any(value is not None for value in price.__dict__.values()):
            return None
        # An empty price set is how genai-prices lists a free model (":free" variants,
        # subscription-included Copilot models): a known zero, not an unknown price.
        return _flat_rates(provider_id, model_id, values, None)
    tiered = [value for value in values.values() if isinstance(value, gp.TieredPrices)]
    thresholds = sorted({tier.start for value in tiered for tier in value.tiers})
    tiers = tuple(
        LongContextTier(threshold, _flat_rates(provider_id, model_id, values, threshold))
        for threshold in thresholds
    )
    base = _flat_rates(provider_id, model_id, values, None)
    return replace(base, long_context=tiers)


_TOKEN_PRICE_KEYS = (
    "input_mtok",
    "cache_read_mtok",
    "cache_write_mtok",
    "cache_write_1h_mtok",
    "output_mtok",
    "output_reasoning_mtok",
)

PriceValue = Decimal | gp.TieredPrices | None


def _flat_rates(
    provider_id: str, model_id: str, values: dict[str, PriceValue], above: int | None
) -> ModelRates:
    """Rates for requests with more than `above` input tokens (None: below every tier)."""
    return ModelRates(
        provider_id=provider_id,
        model_id=model_id,
        # A model priced on one side only (embeddings: input only) costs nothing on the other.
        input_usd_per_mtok=_rate_above(values["input_mtok"], above) or _ZERO,
        cache_read_usd_per_mtok=_rate_above(values["cache_read_mtok"], above),
        cache_write_usd_per_mtok=_rate_above(values["cache_write_mtok"], above),
        cache_write_1h_usd_per_mtok=_rate_above(values["cache_write_1h_mtok"], above),
        output_usd_per_mtok=_rate_above(values["output_mtok"], above) or _ZERO,
        output_reasoning_usd_per_mtok=_rate_above(values["output_reasoning_mtok"], above),
    )


def _rate_above(value: PriceValue, above: int | None) -> Decimal | None:
    """The rate genai-prices applies when total input tokens exceed `above`."""
    if not isinstance(value, gp.TieredPrices):
        return value
    rate = value.base
    if above is not None:
        # genai-prices applies a tier when total input > tier.start; tiers are sorted.
        for tier in value.tiers:
            if tier.start <= above:
                rate = tier.price
    return rate


class StaticCatalog:
    """Fixed rates keyed by exact (provider_id, model_ref), ignoring time: a test double."""

    def __init__(
        self, rates: Mapping[tuple[str, str], ModelRates], version: str = "static"
    ) -> None:
        self._rates = dict(rates)
        self._version = version

    @property
    def version(self) -> str:
        """Identify the price data."""
        return self._version

    def lookup(self, provider_id: str, model_ref: str, at: datetime) -> ModelRates | None:
        """Return the rates stored for exactly this provider and model, whatever `at` is."""
        return self._rates.get((provider_id, model_ref))
