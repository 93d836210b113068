"""Cost accuracy read from accuracy_hours (SQLite) equals the same report computed call by
call, through folds, later updates of folded calls and a ragged start; PostgreSQL reads
the calls and must give the same numbers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from store.price_reports import CALLS, cost_accuracy
from tests.collector_processor.budgets.world import USD, World, make_world, ns

NOW = datetime(2026, 11, 23, 15, 7, tzinfo=UTC)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


def by_call(world: World, since_ns: int, org_id: int | None = None) -> dict[str, tuple[int, ...]]:
    """The report's figures per model, computed here from every stored call."""
    c = CALLS.c
    cols = (c.org_id, c.model, c.billed, c.start_ns, c.cost_nanousd, c.client_cost_nanousd)
    acc: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    with world.engine.connect() as conn:
        for org, model, billed, start, ours, client in conn.execute(select(*cols)):
            if not billed or client is None or start < since_ns or org_id not in (None, org):
                continue
            a = acc[model]
            if ours is None:
                a[4] += 1
                a[5] += client
            else:
                a[0] += 1
                a[1] += client
                a[2] += ours
                a[3] += abs(ours - client) * 100 > client  # more than 1 % apart
    return {m: tuple(v) for m, v in acc.items()}


def reported(
    world: World, since_ns: int = 0, org_id: int | None = None
) -> dict[str, tuple[int, ...]]:
    return {
        r.model: (
            r.calls,
            r.client_nanousd,
            r.ours_nanousd,
            r.calls_off,
            r.unpriced_calls,
            r.unpriced_client_nanousd,
        )
        for r in cost_accuracy(world.engine, since_ns=since_ns, org_id=org_id)
    }


def calls(world: World, first: int, n: int, at: datetime) -> list[dict[str, Any]]:
    """n calls from minute `at` on; every third without a client cost, every fifth 3 % off."""
    out = []
    for i in range(first, first + n):
        cost = (i % 7 + 1) * USD // 100
        client = None if i % 3 == 0 else cost * 103 // 100 if i % 5 == 0 else cost
        model = ("claude-sonnet-4-5", "gpt-5", "acme-coder-7b")[i % 3 if i % 4 else 2]
        out.append(
            world.call(
                ("alice", "bob")[i % 2],
                0,
                at + timedelta(minutes=i * 7, seconds=i),
                call_id=f"acc-{i}",
                model=model,
                cost_nanousd=None if model == "acme-coder-7b" else cost,
                client_cost_nanousd=client,
            )
        )
    return out


def test_accuracy_equals_the_calls_through_folds_and_updates(world: World) -> None:
    start = NOW - timedelta(days=2)
    world.write(*calls(world, 0, 60, start))
    assert reported(world) == by_call(world, 0) and reported(world)  # folds the first 60
    world.write(*calls(world, 60, 30, start))  # new calls since the fold
    later = world.call("bob", 0, start, call_id="acc-3", client_cost_nanousd=7 * USD // 100)
    world.write(later)  # a second description of a folded call brings its client cost
    with world.engine.begin() as conn:
        c = CALLS.c
        conn.execute(update(CALLS).where(c.call_id == "acc-1").values(billed=False))
        conn.execute(update(CALLS).where(c.call_id == "acc-2").values(cost_nanousd=USD))
        conn.execute(update(CALLS).where(c.call_id == "acc-7").values(cost_nanousd=None))
    want = by_call(world, 0)
    assert reported(world) == want
    assert reported(world) == want  # nothing new: the same again
    with world.engine.connect() as conn:
        enriched = conn.execute(
            select(CALLS.c.client_cost_nanousd).where(CALLS.c.call_id == "acc-3")
        ).scalar()
    assert enriched == 7 * USD // 100


def test_accuracy_since_a_minute_inside_an_hour(world: World) -> None:
    world.write(*calls(world, 0, 40, NOW - timedelta(hours=3)))
    reported(world)  # fold
    for since in (NOW - timedelta(hours=2, minutes=23, seconds=30), NOW - timedelta(hours=1)):
        want = by_call(world, ns(since))
        assert reported(world, ns(since)) == want and want
    assert reported(world, ns(NOW + timedelta(days=1))) == {}
    other = reported(world, 0, org_id=world.org.id + 1)
    assert other == {} and reported(world, 0, org_id=world.org.id) == by_call(world, 0)
