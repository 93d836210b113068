"""Lease admission (gateway.leases) against the real reserver and store, on both databases:
calls of a scope share a lease, grants leave room near a limit, holds never pass the limit,
a lease ends on time and its hold is charged, released or kept exactly as its calls settle."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from collector_processor.budgets.evaluate import CallScope
from gateway.leases import Admission, Leases
from gateway.reservations import Blocked, Reserved, Reserver
from gateway.store_link import LocalStore
from store.gateway import live_reservations
from tests.collector_processor.budgets.world import USD, World, make_world

EST = 10_000_000  # $0.01 a call


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


class _Recorder:
    """Commits a call of alice costing `facts` nano-USD through the real writer."""

    def __init__(self, world: World) -> None:
        self.world = world

    async def record(self, facts: Any, *, bill: bool = True) -> int:
        row = self.world.call("alice", facts / USD, datetime.now(UTC))
        row["cost_nanousd"] = facts
        await asyncio.to_thread(self.world.write, row)
        return int(facts)


class _Counting(LocalStore):
    asks = 0

    async def reserve(self, scope: CallScope, estimate: int, want: int) -> Reserved | Blocked:
        self.asks += 1
        return await super().reserve(scope, estimate, want)


def _scope(world: World) -> CallScope:
    u = world.users["alice"]
    return CallScope(world.org.id, world.workspace_id, u, world.keys["alice"], model="m")


def _run(world: World, body: Any, **lease_kw: Any) -> Any:
    reserver = Reserver(world.engine)
    store = _Counting(reserver, _Recorder(world))  # type: ignore[arg-type]
    leases = Leases(store, **lease_kw)

    async def go() -> Any:
        try:
            return await body(store, leases)
        finally:
            await leases.close()

    try:
        return asyncio.run(go())
    finally:
        reserver.close()


def _held(world: World) -> int:
    return sum(amount for _, _, amount in live_reservations(world.engine))


async def _settle(store: LocalStore, leases: Leases, adm: Admission, cost: int) -> None:
    leases.settled(adm, await store.record(cost, True, adm.lease_id), recorded=True)


def test_calls_of_a_scope_share_a_lease_and_its_hold_shrinks_as_they_settle(
    world: World,
) -> None:
    world.budget("user", "alice", "day", 100.0, mode="hard")

    async def body(store: _Counting, leases: Leases) -> None:
        for _ in range(20):
            adm = await leases.admit(_scope(world), EST)
            assert isinstance(adm, Admission)
            await _settle(store, leases, adm, EST // 2)
        # 8 estimates' worth first; when a quarter of it is left the next lease, twice what
        # the first admitted, is asked ahead and takes the rest.  2 asks, not 20.
        assert store.asks == 2
        lease = adm.lease
        assert lease.granted >= 2 * 13 * EST
        assert _held(world) == lease.granted - lease.charged

    _run(world, body)
    assert _held(world) == 0  # closing released what was left


def test_near_the_limit_a_grant_is_half_the_room_then_the_estimate(world: World) -> None:
    world.budget("user", "alice", "day", 0.05, mode="hard")  # room for 5 estimates
    reserver = Reserver(world.engine)
    try:
        grants = [reserver.submit(_scope(world), EST, 8 * EST).result() for _ in range(5)]
    finally:
        reserver.close()
    amounts = [g.amount_nanousd if isinstance(g, Reserved) else None for g in grants]
    # half of $0.05, then half of the rest, ... at least the estimate; then nothing fits
    assert amounts == [25_000_000, 12_500_000, EST, None, None]


def test_concurrent_admissions_of_two_replicas_never_hold_more_than_the_limit(
    world: World,
) -> None:
    world.budget("user", "alice", "day", 0.2, mode="hard")  # 20 estimates

    async def replica(store: _Counting, leases: Leases) -> list[Admission | Blocked]:
        return list(await asyncio.gather(*(leases.admit(_scope(world), EST) for _ in range(30))))

    async def both(store: _Counting, leases: Leases) -> list[Admission | Blocked]:
        other = Leases(store)  # a second proxy process on the same store
        try:
            a, b = await asyncio.gather(replica(store, leases), replica(store, other))
        finally:
            await other.close()
        admitted = [x for x in a + b if isinstance(x, Admission)]
        assert len(admitted) * EST <= 200_000_000 and _held(world) <= 200_000_000
        assert len(admitted) >= 10  # half-the-room grants still let most of it through
        return a + b

    outcomes = _run(world, both)
    blocked = [x for x in outcomes if isinstance(x, Blocked)]
    assert blocked and "the hard daily budget of user alice" in blocked[0].message


def test_a_budget_change_applies_once_the_lease_has_ended(world: World) -> None:
    async def body(store: _Counting, leases: Leases) -> None:
        first = await leases.admit(_scope(world), EST)  # no hard budget: a free lease
        assert isinstance(first, Admission) and first.lease_id is None
        world.budget("user", "alice", "day", 0.001, mode="hard")
        assert isinstance(await leases.admit(_scope(world), EST), Admission)  # lease lives
        await asyncio.sleep(0.25)
        assert isinstance(await leases.admit(_scope(world), EST), Blocked)

    _run(world, body, lifetime_s=0.2)


def test_an_ended_lease_is_released_after_its_last_call_unless_one_was_not_recorded(
    world: World,
) -> None:
    world.budget("user", "alice", "day", 100.0, mode="hard")

    async def body(store: _Counting, leases: Leases) -> None:
        a = await leases.admit(_scope(world), EST)
        b = await leases.admit(_scope(world), EST)
        assert isinstance(a, Admission) and isinstance(b, Admission) and a.lease is b.lease
        await asyncio.sleep(0.4)  # ended (and swept) while both are in flight
        await _settle(store, leases, a, EST)
        assert _held(world) == a.lease.granted - EST  # b still counts on it
        await _settle(store, leases, b, EST)
        for _ in range(50):
            if _held(world) == 0:
                break
            await asyncio.sleep(0.02)
        assert _held(world) == 0
        c = await leases.admit(_scope(world), EST)
        assert isinstance(c, Admission) and c.lease is not a.lease
        await asyncio.sleep(0.4)
        leases.settled(c, None, recorded=False)  # recording failed: keep the hold (TTL)
        await asyncio.sleep(0.1)
        assert _held(world) == c.lease.granted

    _run(world, body, lifetime_s=0.2, keep_warm_s=0)  # no renewal while idle


def test_a_lease_ends_with_its_budgets_window(world: World) -> None:
    world.budget("user", "alice", "hour", 100.0, mode="hard")
    reserver = Reserver(world.engine)
    try:
        grant = reserver.submit(_scope(world), EST, 8 * EST).result()
    finally:
        reserver.close()
    assert isinstance(grant, Reserved)
    next_hour = (time.time_ns() // 3_600_000_000_000 + 1) * 3_600_000_000_000
    assert grant.valid_until_ns == next_hour


def test_a_busy_scope_never_waits_for_its_next_lease(world: World) -> None:
    world.budget("user", "alice", "day", 100.0, mode="hard")

    async def body(store: _Counting, leases: Leases) -> None:
        first = await leases.admit(_scope(world), EST)
        assert isinstance(first, Admission)
        leases.cancelled(first)
        waited = 0
        for _ in range(60):  # 0.6 s of calls: three lease lifetimes
            await asyncio.sleep(0.01)
            call = leases.admit(_scope(world), EST)
            try:
                call.send(None)  # admitted without suspending: no round trip
            except StopIteration as done:
                assert isinstance(done.value, Admission)
                leases.cancelled(done.value)
            else:
                waited += 1
                call.close()
        assert waited == 0 and store.asks >= 3  # renewed ahead, never in a call's path

    _run(world, body, lifetime_s=0.2)


def test_a_refused_ask_ahead_is_not_repeated_for_every_call(world: World) -> None:
    world.budget("user", "alice", "day", 1.0, mode="hard")  # 100 estimates

    async def body(store: _Counting, leases: Leases) -> None:
        first = await leases.admit(_scope(world), EST)
        assert isinstance(first, Admission) and first.lease.granted == 8 * EST
        other = await asyncio.wrap_future(store.reserver.submit(_scope(world), 92 * EST))
        assert isinstance(other, Reserved)  # another replica took the rest
        admitted = [first]
        await asyncio.sleep(0.8)  # past 3/4 of the lease's 1 s: every call would ask ahead...
        for _ in range(6):
            adm = await leases.admit(_scope(world), EST)
            assert isinstance(adm, Admission) and adm.lease is first.lease
            admitted.append(adm)
            await asyncio.sleep(0.005)  # let an ask ahead run
        assert store.asks == 2  # ...until one is refused: the first lease, one ask ahead
        for adm in admitted:
            leases.cancelled(adm)

    _run(world, body, lifetime_s=1.0, keep_warm_s=0)


def test_a_recently_busy_scope_finds_a_lease_ready_after_a_pause(world: World) -> None:
    world.budget("user", "alice", "day", 100.0, mode="hard")

    async def body(store: _Counting, leases: Leases) -> None:
        first = await leases.admit(_scope(world), EST)
        assert isinstance(first, Admission)
        leases.cancelled(first)
        await asyncio.sleep(0.7)  # 3.5 lease lifetimes without a call: renewed meanwhile
        call = leases.admit(_scope(world), EST)
        try:
            call.send(None)
        except StopIteration as done:  # admitted without a round trip
            assert isinstance(done.value, Admission)
            leases.cancelled(done.value)
        else:
            call.close()
            raise AssertionError("the call waited for a lease")
        await asyncio.sleep(1.2)  # past keep_warm_s since the last call: renewals stop...
        asks = store.asks
        await asyncio.sleep(0.4)
        assert store.asks == asks and not leases._current  # ...the lease ended, room given back
        assert _held(world) == 0

    _run(world, body, lifetime_s=0.2, keep_warm_s=0.8)
