"""What importing a catalog would change: added models and changed rates, with their dates.

Each model of the new catalog is looked up the way a call naming it would be, once in the
current book and once in the new catalog, at the new version's effective date and at every
later date its own price history changes.  Identical data therefore diffs empty, whatever
the two files' model naming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from collector_processor.pricing.book import PriceBook
from collector_processor.pricing.catalog import ModelRates
from collector_processor.pricing.listing import (
    CatalogEntry,
    ListableCatalog,
    priced_from,
    same_rates,
)
from collector_processor.pricing.model_ids import lookup_candidates

ADDED, CHANGED = "added", "changed"


@dataclass(frozen=True, slots=True)
class RateChange:
    """One model whose price an import adds or changes, from `effective`."""

    kind: str  # ADDED | CHANGED
    provider_id: str
    model_id: str
    effective: datetime
    old: ModelRates | None
    new: ModelRates
    old_source: str  # label of the version that priced it until now ("" when none did)


@dataclass(frozen=True, slots=True)
class CatalogDiff:
    """Every change an import brings, and how many listed models keep their price."""

    changes: tuple[RateChange, ...]
    unchanged: int
    models: int

    @property
    def added(self) -> list[RateChange]:
        """Models no stored version priced."""
        return [c for c in self.changes if c.kind == ADDED]

    @property
    def changed(self) -> list[RateChange]:
        """Models whose rates differ from the ones in force."""
        return [c for c in self.changes if c.kind == CHANGED]


def diff_catalog(book: PriceBook, new: ListableCatalog, effective_from: datetime) -> CatalogDiff:
    """Compare `new` (in force from `effective_from`) with what `book` bills today."""
    changes: list[RateChange] = []
    unchanged = models = 0
    for entry in new.entries():
        found = _entry_changes(book, entry, effective_from)
        if found is None:
            continue  # no per-token price at any date that matters
        models += 1
        changes.extend(found)
        unchanged += not found
    changes.sort(key=lambda c: (c.kind, c.provider_id, c.model_id, c.effective))
    return CatalogDiff(tuple(changes), unchanged, models)


def _entry_changes(
    book: PriceBook, entry: CatalogEntry, effective_from: datetime
) -> list[RateChange] | None:
    dates = priced_from(entry, effective_from)
    out: list[RateChange] = []
    priced = False
    for at in dates:
        new_rates = entry.rates_at(at)
        if new_rates is None:
            continue
        priced = True
        old, source = current_rates(book, entry.provider_id, entry.model_id, at)
        if not same_rates(old, new_rates):
            kind = CHANGED if old is not None else ADDED
            out.append(
                RateChange(kind, entry.provider_id, entry.model_id, at, old, new_rates, source)
            )
    return out if priced else None


def current_rates(
    book: PriceBook, provider_id: str, model_id: str, at: datetime
) -> tuple[ModelRates | None, str]:
    """What the book bills for this catalog model: the same id in a stored version, else
    what a call naming the model would get (ids differ between catalog formats)."""
    for version in book.in_force(at):
        exact = getattr(version.catalog, "rates_for_entry", None)
        rates = exact(provider_id, model_id, at) if exact is not None else None
        if rates is not None:
            return rates, version.label
    found = book.catalog_rates(lookup_candidates(provider_id, model_id), at)
    return (found[0], found[1].label) if found else (None, "")
