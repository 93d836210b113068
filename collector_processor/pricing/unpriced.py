"""First sighting of a model without a price: tell someone, once per model and org.

Runs as a StoreWriter after-commit hook.  A set in memory skips models already handled by
this process; the store's unique (org, provider, model) row decides, across processes and
restarts, which sighting is the first, so `on_unpriced_model` fires exactly once.  A call
unpriced only because it reported no usage says nothing about its model's price: skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from collector_processor.pricing.engine import NO_USAGE_REASON
from store.unpriced import Sighting, record_sightings

if TYPE_CHECKING:
    from store.writer import WriteBatch

log = logging.getLogger(__name__)

# (org_id, model, provider) -> None.  Quick: it runs on the writer thread.
UnpricedModelHook = Callable[[int, str, str], None]
# Model names come from telemetry: bound the memo (the store still dedupes past it).
_MAX_REMEMBERED = 100_000


def log_unpriced_model(org_id: int, model: str, provider: str) -> None:
    """The default hook: a warning in the server log."""
    log.warning(
        "first call of unpriced model %r (provider %r) in org %d: its tokens are kept and "
        "flagged; add a price with `otelspend prices override` or `prices import`",
        model,
        provider or "unknown",
        org_id,
    )


class UnpricedModelWatch:
    """Calls `on_unpriced_model(org_id, model, provider)` the first time a model is unpriced."""

    def __init__(
        self, engine: Engine, on_unpriced_model: UnpricedModelHook = log_unpriced_model
    ) -> None:
        self._engine = engine
        self.on_unpriced_model = on_unpriced_model
        self._handled: set[tuple[int, str, str]] = set()

    def after_commit(self, batches: Sequence[WriteBatch]) -> None:
        """StoreWriter hook: record first sightings among the committed calls, then notify."""
        fresh: dict[tuple[int, str, str], Sighting] = {}
        for batch in batches:
            for c in batch.calls:
                if c["cost_nanousd"] is not None or not c["model"].strip():
                    continue
                if c.get("unpriced_reason") == NO_USAGE_REASON:
                    continue
                key = (c["org_id"], c["provider"], c["model"])
                if key not in self._handled and key not in fresh:
                    fresh[key] = Sighting(*key, c["start_ns"], c["call_id"])
        if not fresh:
            return
        if len(self._handled) > _MAX_REMEMBERED:
            self._handled.clear()
        first = record_sightings(self._engine, list(fresh.values()))
        self._handled.update(fresh)
        for s in first:
            try:
                self.on_unpriced_model(s.org_id, s.model, s.provider)
            except Exception:  # noqa: BLE001 - an alert failure never fails ingest
                log.exception("unpriced-model hook failed for %r", s.model)
