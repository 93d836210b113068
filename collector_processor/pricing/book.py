"""A price book: the stored price versions plus the overrides layered on top of them.

A book is immutable once built.  The refresher builds a new one when prices change and swaps
it into the Pricer, so each call is priced against exactly one book and pricing stays a pure
function of (call, book).

Versions: each is a whole catalog snapshot in force from its `effective_from`.  Among the
versions in force at a call's start, the most recently stored one that knows the model wins;
a model a newer snapshot does not list keeps the price an older one gives it.

Overrides: negotiated or custom rates for one model, in force over a period, scoped to a
workspace, an org, or everyone.  The most specific scope wins (workspace > org > global),
then the most recently created; any override wins over every catalog.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import NamedTuple

from collector_processor.pricing.catalog import LongContextTier, ModelRates, PriceCatalog

# Calls before every stored version still need a catalog: the first version starts here.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
_HUNDRED = Decimal(100)

SCOPE_GLOBAL, SCOPE_ORG, SCOPE_WORKSPACE = "global", "org", "workspace"
_SPECIFICITY = {SCOPE_GLOBAL: 0, SCOPE_ORG: 1, SCOPE_WORKSPACE: 2}


@dataclass(frozen=True, slots=True)
class CatalogVersion:
    """One stored price version: a catalog snapshot in force from `effective_from`."""

    version_id: int
    label: str
    effective_from: datetime
    catalog: PriceCatalog


@dataclass(frozen=True, slots=True)
class PriceOverride:
    """Rates for one model that win over the catalog for a scope and a period.

    `model` is a normalized model ref (see model_ids.normalize_model_id); `provider_id` ""
    matches any provider.  Exactly one of `discount_pct` (off the catalog's rates, tiers
    included) and `rates` (a complete flat price, e.g. for a custom or fine-tuned model).
    A workspace override carries its org too.
    """

    override_id: int
    model: str
    provider_id: str
    org_id: int | None
    workspace_id: int | None
    valid_from: datetime
    valid_until: datetime | None
    discount_pct: Decimal | None = None
    rates: ModelRates | None = None

    def __post_init__(self) -> None:
        if (self.discount_pct is None) == (self.rates is None):
            raise ValueError("an override has either a discount or rates, not both or neither")
        if self.discount_pct is not None and not Decimal(0) < self.discount_pct <= _HUNDRED:
            raise ValueError(f"a discount is a percentage in (0, 100], got {self.discount_pct}")
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("an override must end after it starts")
        if self.workspace_id is not None and self.org_id is None:
            raise ValueError("a workspace override names its org too")
        if not self.model:
            raise ValueError("an override needs a model")

    @property
    def scope(self) -> str:
        """The override's scope: "workspace", "org" or "global"."""
        if self.workspace_id is not None:
            return SCOPE_WORKSPACE
        return SCOPE_ORG if self.org_id is not None else SCOPE_GLOBAL

    def in_force(self, at: datetime) -> bool:
        """Whether `at` falls in [valid_from, valid_until)."""
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)

    def covers(self, org_id: int | None, workspace_id: int | None) -> bool:
        """Whether a call of this org and workspace is inside the override's scope."""
        if self.workspace_id is not None:
            return self.workspace_id == workspace_id
        return self.org_id is None or self.org_id == org_id


class Resolution(NamedTuple):
    """The rates a call is billed at and where they came from (a NamedTuple: built per call)."""

    rates: ModelRates
    price_version: str  # recorded on the call: a version label, with the override if any
    provider_id: str
    model_id: str
    override: PriceOverride | None = None
    version: CatalogVersion | None = None  # the catalog consulted; None for a custom model


class PriceBook:
    """Every stored price version and override; resolves a call's rates in memory."""

    def __init__(
        self, versions: Sequence[CatalogVersion], overrides: Sequence[PriceOverride] = ()
    ) -> None:
        if not versions:
            raise ValueError("a price book needs at least one price version")
        # Newest stored first: that is the order in which versions win.
        self.versions = tuple(sorted(versions, key=lambda v: v.version_id, reverse=True))
        self.overrides = tuple(sorted(overrides, key=lambda o: o.override_id))
        # Precomputed per distinct start date, so the hot path bisects instead of filtering;
        # a call older than every version is priced by the earliest one(s).
        self._starts = sorted({v.effective_from for v in self.versions})
        self._in_force = [
            tuple(v for v in self.versions if v.effective_from <= start) for start in self._starts
        ]
        by_model: dict[str, list[PriceOverride]] = defaultdict(list)
        for o in self.overrides:
            by_model[o.model].append(o)
        self._by_model = {
            m: tuple(sorted(os, key=lambda o: (_SPECIFICITY[o.scope], o.override_id), reverse=True))
            for m, os in by_model.items()
        }
        # (override id, id(catalog rates)) -> (those rates, kept alive so the id stays
        # unique; the discounted rates).  Bounded by overrides x catalog prices.
        self._discounted: dict[tuple[int, int], tuple[ModelRates, ModelRates]] = {}

    @classmethod
    def of(cls, catalog: PriceCatalog) -> PriceBook:
        """A book of one catalog in force since the beginning, without overrides."""
        return cls([CatalogVersion(0, catalog.version, BEGINNING, catalog)])

    def in_force(self, at: datetime) -> tuple[CatalogVersion, ...]:
        """Versions in force at `at`, in the order they win (newest stored first)."""
        if len(self._in_force) == 1:  # the usual book: every version from the start
            return self._in_force[0]
        return self._in_force[max(bisect_right(self._starts, at) - 1, 0)]

    def label_at(self, at: datetime) -> str:
        """The label of the version that wins at `at` (what an unpriced call records)."""
        return self.in_force(at)[0].label

    def describe_at(self, at: datetime) -> str:
        """Name the versions consulted at `at`, for unpriced reasons."""
        versions = self.in_force(at)
        more = len(versions) - 1
        return versions[0].label + (f" nor {more} older price version(s)" if more else "")

    def catalog_rates(
        self, candidates: Sequence[tuple[str, str]], at: datetime
    ) -> tuple[ModelRates, CatalogVersion] | None:
        """The first catalog hit: versions newest first, each tried with every candidate."""
        for version in self.in_force(at):
            for provider_id, model_ref in candidates:
                rates = version.catalog.lookup(provider_id, model_ref, at)
                if rates is not None:
                    return rates, version
        return None

    def resolve(
        self,
        candidates: Sequence[tuple[str, str]],
        at: datetime,
        org_id: int | None = None,
        workspace_id: int | None = None,
    ) -> Resolution | None:
        """The rates for a call with these lookup candidates; None when it is unpriced."""
        found = self.catalog_rates(candidates, at)
        override = None
        if self._by_model:
            keys = [ref for _, ref in candidates]
            if found is not None:
                keys.append(found[0].model_id.lower())
            override = self.override_for(keys, candidates, at, org_id, workspace_id, found)
        if override is not None:
            return self.apply_override(override, candidates, found)
        if found is None:
            return None
        rates, version = found
        return Resolution(rates, version.label, rates.provider_id, rates.model_id, None, version)

    def override_for(
        self,
        keys: Iterable[str],
        candidates: Sequence[tuple[str, str]],
        at: datetime,
        org_id: int | None,
        workspace_id: int | None,
        found: tuple[ModelRates, CatalogVersion] | None,
    ) -> PriceOverride | None:
        """The winning override for a call, or None."""
        providers = {p for p, _ in candidates}
        if found is not None:
            providers.add(found[0].provider_id)
        best: PriceOverride | None = None
        for key in dict.fromkeys(keys):
            for o in self._by_model.get(key, ()):
                if o.provider_id and o.provider_id not in providers:
                    continue
                if not (o.in_force(at) and o.covers(org_id, workspace_id)):
                    continue
                if o.discount_pct is not None and found is None:
                    continue  # a discount needs catalog rates to discount
                if best is None or _rank(o) > _rank(best):
                    best = o
                break  # each key's list is sorted best first
        return best

    def apply_override(
        self,
        o: PriceOverride,
        candidates: Sequence[tuple[str, str]],
        found: tuple[ModelRates, CatalogVersion] | None,
    ) -> Resolution:
        """The rates `o` gives a call with these candidates and catalog hit (`found`)."""
        label = f"override #{o.override_id}"
        if o.rates is not None:
            provider = found[0].provider_id if found else (o.provider_id or candidates[0][0])
            model = found[0].model_id if found else o.model
            return Resolution(o.rates, label, provider, model, o, None)
        assert found is not None and o.discount_pct is not None  # checked in override_for
        rates, version = found
        key = (o.override_id, id(rates))
        cached = self._discounted.get(key)
        if cached is None:
            cached = self._discounted[key] = (rates, discounted(rates, o.discount_pct))
        full_label = f"{version.label} + {label}"
        return Resolution(cached[1], full_label, rates.provider_id, rates.model_id, o, version)


def _rank(o: PriceOverride) -> tuple[int, int]:
    return _SPECIFICITY[o.scope], o.override_id


def discounted(rates: ModelRates, pct: Decimal) -> ModelRates:
    """Every rate (long-context tiers included) reduced by `pct` percent, exactly."""
    factor = (_HUNDRED - pct) / _HUNDRED

    def cut(rate: Decimal | None) -> Decimal | None:
        return None if rate is None else (rate * factor).normalize()

    def flat(r: ModelRates) -> ModelRates:
        return replace(
            r,
            input_usd_per_mtok=(r.input_usd_per_mtok * factor).normalize(),
            cache_read_usd_per_mtok=cut(r.cache_read_usd_per_mtok),
            cache_write_usd_per_mtok=cut(r.cache_write_usd_per_mtok),
            cache_write_1h_usd_per_mtok=cut(r.cache_write_1h_usd_per_mtok),
            output_usd_per_mtok=(r.output_usd_per_mtok * factor).normalize(),
            output_reasoning_usd_per_mtok=cut(r.output_reasoning_usd_per_mtok),
            long_context=(),
        )

    tiers = tuple(LongContextTier(t.threshold_tokens, flat(t.rates)) for t in rates.long_context)
    return replace(flat(rates), long_context=tiers)
