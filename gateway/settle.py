"""After the response: record the call (its actual cost) and settle its lease admission.

Runs as background tasks so the client never waits for the store.  The store side charges
the cost to the lease's hold only once the call is committed; if recording fails the lease
keeps its hold until the TTL, over-counting for a while rather than letting spend slip past
a limit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from collector_processor.pricing.engine import Pricer
from gateway.leases import Leases
from gateway.metrics import GatewayMetrics
from gateway.providers.common import Usage
from gateway.record import DIALECT, CallFacts
from gateway.store_link import StoreSide
from semconv.records import GRANULARITY_CALL, LlmCall
from store.gateway import CachedResponse

if TYPE_CHECKING:
    from gateway.cache import CacheStore
    from gateway.proxy import Prepared

log = logging.getLogger("otelspend.gateway")


def billed_usage(usage: Usage, estimated_input: int, abandoned: bool) -> Usage:
    """What a stream is billed: reported usage, else input estimate + output seen so far."""
    if usage.complete and not abandoned:
        return usage
    if usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens == 0:
        usage.input_tokens = estimated_input  # never zero: the provider bills the prompt
    usage.output_tokens = usage.output_so_far()
    usage.extra["estimated"] = True
    return usage


def priced_estimate(pricer: Pricer, p: Prepared, input_tokens: int, output_tokens: int) -> int:
    """The estimate's cost at the model's rates (0 for an unpriced model: nothing to hold)."""
    from gateway.config import PROVIDERS

    call = LlmCall(
        "estimate", GRANULARITY_CALL, "span", DIALECT, PROVIDERS[p.route.provider].NAME,
        p.model, "", p.route.operation, p.start_ns, p.start_ns,
        input_tokens=input_tokens, output_tokens=output_tokens,
    )  # fmt: skip
    cost = pricer.price(call, p.key.org_id, p.key.workspace_id).cost_nanousd
    return cost or 0


class Settler:
    """Background settlement tasks, awaited on shutdown."""

    def __init__(self, store: StoreSide, leases: Leases, metrics: GatewayMetrics) -> None:
        self._store = store
        self._leases = leases
        self._metrics = metrics
        self._tasks: set[asyncio.Task[None]] = set()
        self._cache_after: dict[int, tuple[CacheStore, CachedResponse]] = {}

    def settle(self, p: Prepared, facts: CallFacts, bill: bool) -> None:
        """Record the call (billed or spans only) and then release its hold."""
        pending = self._cache_after.pop(id(p), None)
        self._spawn(self._settle(p, facts, bill, pending))

    def cancel(self, p: Prepared) -> None:
        """Give back the admission of a call that never reached upstream (or was served from
        the cache)."""
        if p.admission is not None:
            self._leases.cancelled(p.admission)

    def cache_after(self, cache: CacheStore | None, p: Prepared, entry: CachedResponse) -> None:
        """Store `entry` in the cache once its cost is known (at settlement)."""
        if cache is not None:
            self._cache_after[id(p)] = (cache, entry)

    async def drain(self) -> None:
        """Wait for every settlement in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(
        self,
        p: Prepared,
        facts: CallFacts,
        bill: bool,
        pending: tuple[CacheStore, CachedResponse] | None,
    ) -> None:
        adm = p.admission
        try:
            # The store side charges the cost to the lease once the call is committed.
            cost = await self._store.record(facts, bill, adm.lease_id if adm else None)
        except Exception:  # noqa: BLE001 - keep the hold: over-count until TTL, never under
            log.exception("could not record a gateway call; its lease's hold expires by TTL")
            self._metrics.record_failures.inc()
            if adm is not None:
                self._leases.settled(adm, None, recorded=False)
            return
        if adm is not None:
            self._leases.settled(adm, cost if bill else 0, recorded=True)
        if pending is not None and p.cache_key is not None:
            cache, entry = pending
            entry = CachedResponse(entry.status, entry.content_type, entry.body, cost or 0)
            await asyncio.to_thread(cache.put, p.key.workspace_id, p.cache_key, entry)
