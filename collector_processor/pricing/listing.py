"""What a catalog lists, model by model: for `prices list` and for the diff an import shows.

The pricing hot path never enumerates a catalog; it only looks models up.  Listing needs
more: every model, the dates its rates change, and its service tiers (batch, flex,
priority), which the engine does not bill separately but people want to see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from genai_prices import types as gp

from collector_processor.pricing.catalog import ModelRates, rates_from_model_price

RatesAt = Callable[[datetime], ModelRates | None]
TiersAt = Callable[[datetime], dict[str, ModelRates]]


def _no_tiers(_at: datetime) -> dict[str, ModelRates]:
    return {}


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One model of a catalog: its ids, the dates its rates change, its rates at a moment."""

    provider_id: str
    model_id: str
    name: str
    change_dates: tuple[datetime, ...]  # ascending; the rates before the first are undated
    rates_at: RatesAt = field(repr=False, compare=False)
    service_tiers_at: TiersAt = field(default=_no_tiers, repr=False, compare=False)


class ListableCatalog(Protocol):
    """A catalog that can enumerate its models (every catalog the store loads can)."""

    @property
    def version(self) -> str:
        """Identify the price data."""
        ...

    def entries(self) -> Iterator[CatalogEntry]:
        """Every model the catalog prices by the token."""
        ...


def priced_from(entry: CatalogEntry, since: datetime) -> list[datetime]:
    """The dates from `since` on at which the entry's rates change (and `since` itself)."""
    return [since, *(d for d in entry.change_dates if d > since)]


def priced_models(catalog: ListableCatalog, since: datetime) -> int:
    """How many models the catalog prices by the token at `since` or at a later change."""
    return sum(
        1
        for e in catalog.entries()
        if any(e.rates_at(d) is not None for d in priced_from(e, since))
    )


def genai_entries(providers: Sequence[gp.Provider]) -> Iterator[CatalogEntry]:
    """The models of genai-prices data, with their dated price changes and variants."""
    for provider in providers:
        for model in provider.models:
            yield CatalogEntry(
                provider_id=provider.id,
                model_id=model.id,
                name=model.name or model.id,
                change_dates=_start_dates(model),
                rates_at=_rates_of(provider.id, model),
                service_tiers_at=_variants_of(provider.id, model),
            )


def _start_dates(model: gp.ModelInfo) -> tuple[datetime, ...]:
    if not isinstance(model.prices, list):
        return ()
    dates = {
        datetime.combine(p.constraint.start_date, datetime.min.time(), tzinfo=UTC)
        for p in model.prices
        if isinstance(p.constraint, gp.StartDateConstraint)
    }
    return tuple(sorted(dates))


def _rates_of(provider_id: str, model: gp.ModelInfo) -> RatesAt:
    def rates_at(at: datetime) -> ModelRates | None:
        return rates_from_model_price(provider_id, model.id, model.get_prices(at))

    return rates_at


def _variants_of(provider_id: str, model: gp.ModelInfo) -> TiersAt:
    variants = model.price_variants or []

    def tiers_at(at: datetime) -> dict[str, ModelRates]:
        tiers: dict[str, ModelRates] = {}
        for v in variants:
            if v.constraint is not None and not v.constraint.active(at):
                continue
            name = ",".join(f"{k}={val}" for k, val in sorted(v.when.items()))
            rates = rates_from_model_price(provider_id, model.id, model.get_prices(at, v.when))
            if rates is not None and name not in tiers:
                tiers[name] = rates
        return tiers

    return tiers_at


def same_rates(a: ModelRates | None, b: ModelRates | None) -> bool:
    """Whether two rate sets bill every request identically (ids aside)."""
    if a is None or b is None:
        return a is b
    return rate_signature(a) == rate_signature(b)


def rate_signature(r: ModelRates) -> tuple[object, ...]:
    """The rates and tiers of a rate set, without its ids, comparable with ==."""
    tiers = tuple((t.threshold_tokens, t.rates.all_rates()) for t in r.long_context)
    return r.all_rates(), tiers
