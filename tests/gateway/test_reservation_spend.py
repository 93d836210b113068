"""The reservation path's spend query (store.gateway.spent_nanousd: whole hours plus ragged
minutes on SQLite) equals the sum of the very calls in each window, for every scope."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from store.gateway import spent_nanousd
from tests.collector_processor.budgets.world import World, make_world

NOW = datetime(2026, 11, 23, 15, 7, tzinfo=UTC)


def _minute(at: datetime) -> int:
    return int(at.timestamp()) // 60


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


def test_spend_of_ragged_windows_equals_the_calls(world: World) -> None:
    rnd = random.Random(5)
    rows: list[dict[str, Any]] = []
    for i in range(90):
        at = NOW - timedelta(minutes=rnd.randrange(2 * 1440), seconds=rnd.randrange(60))
        user = ("alice", "bob")[i % 2]
        agent = ("claude-code", "codex")[(i // 2) % 2]
        rows.append(world.call(user, rnd.randrange(1, 500) / 100, at, agent=agent))
    world.write(*rows)
    end = _minute(NOW) + 1
    windows = [(end - 1440 - 17, end - 43), (end - 59, end), (end - 2 * 1440, end),
               (end - 600, end - 600 + 7), (end - 120, end - 60)]  # fmt: skip
    users = sorted(world.users.values())
    checked = 0
    conn = world.engine.connect()
    for start, stop in windows:
        for agent in ("", "codex"):
            got = spent_nanousd(conn, world.org.id, "user", users, agent, "",
                                start, stop)  # fmt: skip
            want: dict[int, int] = {}
            for r in rows:
                if start <= r["start_ns"] // 60_000_000_000 < stop and agent in ("", r["agent"]):
                    want[r["user_id"]] = want.get(r["user_id"], 0) + r["cost_nanousd"]
            assert got == want, (start, stop, agent)
            checked += len(want)
        whole = spent_nanousd(conn, world.org.id, "org", [world.org.id], "", "",
                              start, stop)  # fmt: skip
        in_window = [r for r in rows if start <= r["start_ns"] // 60_000_000_000 < stop]
        assert whole == ({world.org.id: sum(r["cost_nanousd"] for r in in_window)}
                         if in_window else {})  # fmt: skip
    conn.close()
    assert checked > 6  # the windows did hold calls
