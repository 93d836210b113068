"""Admission from leased holds: most calls pass the budget check without a store round trip.

The proxy asks the store side (gateway.reservations) for a *lease* per call scope (org,
workspace, user, key, agent, model): one reservation of up to several calls' worth, held
in the store like any other hold, so every replica sees it and the counters stay exact.
The next calls of that scope are admitted from the lease in memory while it has room for
their estimate; one that does not fit waits for a new lease (one ask per scope at a time),
which is granted in full, in part (at most half the room left) or refused with the block
message.  A busy scope's next lease is asked ahead, when three quarters of the lifetime
have passed or a quarter of the room is left, and a scope that admitted a call in the last
KEEP_WARM_S keeps a lease ready even when no call arrives, so its calls rarely wait.  Near a limit a
grant is just the asking call's estimate: per-call reservations.

A lease admits calls for at most LEASE_LIFETIME_S (and never past the end of its budgets'
window), so a budget edit, a raise or a new hard budget applies within that time.  As each
call is committed the store side charges its cost to the lease's hold; once the lease has
stopped admitting and its last call has settled, what is left of the hold is released.  A
call that could not be recorded leaves the hold to its TTL: over-counted for a while,
never under.  A lease of a crashed process expires by the reservation TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from collector_processor.budgets.evaluate import CallScope
from gateway.reservations import Blocked, Reserved
from gateway.store_link import StoreSide

log = logging.getLogger("otelspend.gateway")
LEASE_LIFETIME_S = 1.0
LEASE_CALLS = 8  # a scope's first lease is sized for this many calls like the first one
_SWEEP_S = 0.25
# A scope that admitted a call this recently keeps a lease ready (renewed by the sweeper even
# with no call arriving), so the first call after a pause does not wait for the store.
KEEP_WARM_S = 10.0


@dataclass(slots=True, eq=False)
class Lease:
    """One granted reservation and what has been admitted from it."""

    scope: CallScope
    reservation_id: str | None  # None: no hard budget applies to the scope
    granted: int
    until_ns: int  # admits nothing from here
    renew_ns: int  # from here (or when a quarter is left) the next lease is asked ahead
    charged: int = 0  # estimates of calls in flight + costs of settled calls
    inflight: int = 0
    admitted: int = 0  # estimates admitted: sizes the next lease
    keep: bool = False  # a call could not be recorded: the hold stays until its TTL
    retired: bool = False
    ask_ahead: bool = True  # False once an ask ahead was refused or failed: no ask per call
    last_estimate: int = 0  # of the latest call admitted (sizes a renewal without a call)
    used_ns: int = 0  # when it last admitted a call

    def fits(self, estimate: int, now_ns: int) -> bool:
        if self.retired or now_ns >= self.until_ns:
            return False
        return self.reservation_id is None or self.granted - self.charged >= estimate

    def running_low(self, now_ns: int) -> bool:
        if not self.ask_ahead:
            return False
        if now_ns >= self.renew_ns:
            return True
        return self.reservation_id is not None and 4 * (self.granted - self.charged) < self.granted


@dataclass(slots=True, eq=False)
class Admission:
    """A call let through; settle or cancel it exactly once."""

    lease: Lease
    estimate: int
    done: bool = False

    @property
    def lease_id(self) -> str | None:
        return self.lease.reservation_id


class Leases:
    """Per-process leases of one proxy (event-loop confined: no locks)."""

    def __init__(
        self,
        store: StoreSide,
        *,
        lifetime_s: float = LEASE_LIFETIME_S,
        calls_per_lease: int = LEASE_CALLS,
        keep_warm_s: float = KEEP_WARM_S,
    ) -> None:
        if lifetime_s <= 0 or calls_per_lease < 1:
            raise ValueError("lease lifetime must be > 0 s and calls per lease >= 1")
        self._store = store
        self._lifetime_ns = int(lifetime_s * 1e9)
        self._calls = calls_per_lease
        self._keep_warm_ns = int(keep_warm_s * 1e9)
        self._sweep_s = min(_SWEEP_S, lifetime_s / 8)  # several sweeps in a renewal window
        self._current: dict[CallScope, Lease] = {}
        self._asking: dict[CallScope, asyncio.Future[Lease | Blocked]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    async def admit(self, scope: CallScope, estimate: int) -> Admission | Blocked:
        """Admit a call of `scope` that may cost up to `estimate` nano-USD, or block it."""
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        while True:
            now = time.time_ns()
            lease = self._current.get(scope)
            if lease is not None and lease.fits(estimate, now):
                if lease.running_low(now) and scope not in self._asking:
                    self._ask(scope, estimate)  # ahead: nobody waits for it
                return _take(lease, estimate)
            asking = self._asking.get(scope)
            if asking is not None:  # another call of this scope is asking: it may fit us too
                await asyncio.wait([asking])
                continue
            outcome = await asyncio.shield(self._ask(scope, estimate))  # others may wait on it
            if isinstance(outcome, Blocked):
                return outcome
            if outcome.fits(estimate, time.time_ns()):
                return _take(outcome, estimate)

    def settled(self, admission: Admission, cost: int | None, recorded: bool) -> None:
        """The call is committed (its cost, None when not billed), or could not be recorded."""
        if admission.done:
            return
        admission.done = True
        lease = admission.lease
        lease.inflight -= 1
        if recorded:
            lease.charged += (cost or 0) - admission.estimate
        else:
            lease.keep = True
        self._maybe_release(lease)

    def cancelled(self, admission: Admission) -> None:
        """The call never reached upstream (or came from the cache): nothing was spent."""
        if admission.done:
            return
        admission.done = True
        admission.lease.inflight -= 1
        admission.lease.charged -= admission.estimate
        self._maybe_release(admission.lease)

    async def close(self) -> None:
        """Retire every lease and wait for the releases (after calls in flight settled)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        while self._tasks:  # asks in flight may still install a lease
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for lease in list(self._current.values()):
            self._retire(lease)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _ask(self, scope: CallScope, estimate: int) -> asyncio.Future[Lease | Blocked]:
        """Start asking for the scope's next lease; one ask per scope at a time."""
        asking: asyncio.Future[Lease | Blocked] = asyncio.get_running_loop().create_future()
        asking.add_done_callback(_observe)
        self._asking[scope] = asking
        self._spawn(self._asking_task(scope, estimate, asking))
        return asking

    async def _asking_task(
        self, scope: CallScope, estimate: int, asking: asyncio.Future[Lease | Blocked]
    ) -> None:
        last = self._current.get(scope)
        want = max(estimate * self._calls, 2 * last.admitted if last else 0)
        try:
            outcome = await self._store.reserve(scope, estimate, want)
        except Exception as exc:  # noqa: BLE001 - the caller (if any) hears of it
            log.warning("could not get a gateway lease: %s", exc)
            if self._asking.get(scope) is asking:
                del self._asking[scope]
            if last is not None:
                last.ask_ahead = False
            asking.set_exception(exc)
            return
        if self._asking.get(scope) is asking:
            del self._asking[scope]
        if isinstance(outcome, Blocked):
            if last is not None:  # the current lease admits what it still can, then a
                last.ask_ahead = False  # call that does not fit asks (and hears why)
            asking.set_result(outcome)
        else:
            asking.set_result(self._install(scope, outcome))

    def _install(self, scope: CallScope, grant: Reserved) -> Lease:
        """Make a grant its scope's current lease; the one before stops admitting."""
        last = self._current.get(scope)
        if last is not None:
            self._retire(last)
        now = time.time_ns()
        until = now + self._lifetime_ns
        if grant.valid_until_ns:
            until = min(until, grant.valid_until_ns)
        renew = now + self._lifetime_ns * 3 // 4
        granted = grant.amount_nanousd if grant.reservation_id else 2**62
        lease = Lease(scope, grant.reservation_id, granted, until, renew)
        if last is not None:  # a renewal carries how recently and how big the scope's calls are
            lease.used_ns, lease.last_estimate = last.used_ns, last.last_estimate
        self._current[scope] = lease
        return lease

    def _retire(self, lease: Lease) -> None:
        lease.retired = True
        if self._current.get(lease.scope) is lease:
            del self._current[lease.scope]
        self._maybe_release(lease)

    def _maybe_release(self, lease: Lease) -> None:
        if not lease.retired or lease.inflight or lease.keep or not lease.reservation_id:
            return
        rid, lease.reservation_id = lease.reservation_id, None  # released once
        self._spawn(self._release(rid))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, reservation_id: str) -> None:
        try:
            await self._store.release([reservation_id])
        except Exception:  # noqa: BLE001 - the hold then ends at its TTL
            log.exception("could not release gateway lease %s", reservation_id)

    async def _sweep(self) -> None:
        """Renew the leases of recently busy scopes before they end (kept warm); retire the
        rest once past their time, so idle scopes give their room back."""
        while True:
            await asyncio.sleep(self._sweep_s)
            now = time.time_ns()
            warm_since = now - self._keep_warm_ns
            for lease in list(self._current.values()):
                if now >= lease.until_ns:
                    self._retire(lease)
                elif (
                    now >= lease.renew_ns
                    and lease.ask_ahead
                    and lease.used_ns >= warm_since
                    and lease.scope not in self._asking
                ):
                    self._ask(lease.scope, lease.last_estimate)


def _observe(asking: asyncio.Future[Lease | Blocked]) -> None:
    """Mark an ask's failure as seen (an ask ahead has no caller; the failure was logged)."""
    if not asking.cancelled():
        asking.exception()


def _take(lease: Lease, estimate: int) -> Admission:
    lease.charged += estimate
    lease.inflight += 1
    lease.admitted += estimate
    lease.last_estimate = estimate
    lease.used_ns = time.time_ns()
    return Admission(lease, estimate)
