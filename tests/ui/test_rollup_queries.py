"""The UI's rollup queries equal the same sums computed call by call (SQLite: whole hours
plus ragged minutes; PostgreSQL: minutes), and budget listings equal the per-budget path."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from collector_processor.budgets.evaluate import status_states
from collector_processor.budgets.forecast import recent_start_minute
from collector_processor.budgets.windows import window_at
from store.budgets import OVERRIDES, org_limits
from store.ui_queries import SpendScope, breakdown, dimensions, spend_series, window_totals
from tests.collector_processor.budgets.world import USD, World, make_world

NOW = datetime(2026, 11, 23, 15, 7, tzinfo=UTC)
AGENTS = ("claude-code", "codex")
MODELS = ("claude-sonnet-4-5", "gpt-5")


def minute(at: datetime) -> int:
    return int(at.timestamp()) // 60


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


@pytest.fixture
def calls(world: World) -> list[dict[str, Any]]:
    """120 calls over the last three days at odd minutes, across users, agents and models."""
    rnd = random.Random(11)
    rows = []
    for i in range(120):
        at = NOW - timedelta(minutes=rnd.randrange(3 * 1440), seconds=rnd.randrange(60))
        row = world.call(
            rnd.choice(("alice", "bob")),
            rnd.randrange(1, 400) / 100,
            at,
            agent=AGENTS[i % 2],
            model=MODELS[(i // 2) % 2],
            trace_id=f"t{i}",
        )
        rows.append(row)
    world.write(*rows)
    return rows


def raw(rows: list[dict[str, Any]], start: int, end: int, **match: Any) -> list[dict[str, Any]]:
    """The calls of [start, end) minutes whose columns equal `match`."""
    return [
        r
        for r in rows
        if start <= r["start_ns"] // 60_000_000_000 < end
        and all(r[k] == v for k, v in match.items())
    ]


def cost(rows: list[dict[str, Any]]) -> int:
    return sum(r["cost_nanousd"] for r in rows)


def test_window_totals_equal_the_calls_of_each_ragged_window(
    world: World, calls: list[dict[str, Any]]
) -> None:
    end = minute(NOW) + 1
    windows = {"a": (end - 2 * 1440 - 17, end - 43), "b": (end - 59, end), "c": (end - 3, end - 3)}
    edges = [world.call("bob", 0.25, NOW - timedelta(minutes=m)) for m in (43, 2 * 1440 + 16)]
    world.write(*edges)  # the first and the last minute of "a", both inside an hour
    calls = [*calls, *edges]
    scope = SpendScope(world.org.id, end - 3 * 1440, end)
    got = window_totals(world.engine, scope, windows)
    want = {k: cost(raw(calls, s, e)) for k, (s, e) in windows.items()}
    assert got == want and want["a"] > 0 and want["c"] == 0
    bob = SpendScope(world.org.id, end - 3 * 1440, end, user_ids=(world.users["bob"],))
    assert window_totals(world.engine, bob, {"a": windows["a"]})["a"] == cost(
        raw(calls, *windows["a"], user_id=world.users["bob"])
    )


def test_breakdown_equals_per_group_sums_of_the_calls(
    world: World, calls: list[dict[str, Any]]
) -> None:
    end = minute(NOW) + 1
    start, before = end - 1440 - 31, end - 2 * 1440 - 62
    bd = breakdown(world.engine, SpendScope(world.org.id, start, end), before)
    now_rows, old_rows = raw(calls, start, end), raw(calls, before, start)
    for dim, col in (("agent", "agent"), ("model", "model"), ("user", "user_id")):
        got = {
            g.key: (g.calls, g.output_tokens, g.cost_nanousd, g.previous_nanousd)
            for g in bd.groups[dim]
        }
        want = {
            str(v): (
                len(raw(now_rows, start, end, **{col: v})),
                sum(r["output_tokens"] for r in raw(now_rows, start, end, **{col: v})),
                cost(raw(now_rows, start, end, **{col: v})),
                cost(raw(old_rows, before, start, **{col: v})),
            )
            for v in {r[col] for r in now_rows + old_rows}
        }
        assert got == want, dim
    names = {g.name for g in bd.groups["user"]}
    assert names == {"alice", "bob"}
    [ws] = bd.groups["workspace"]
    assert ws.cost_nanousd == cost(now_rows) and ws.previous_nanousd == cost(old_rows)


def test_filter_options_are_the_agents_and_models_with_spend(
    world: World, calls: list[dict[str, Any]]
) -> None:
    end = minute(NOW) + 1
    dims = dimensions(world.engine, world.org.id, end - 3 * 1440, end)
    assert (dims.agents, dims.models) == (sorted(AGENTS), sorted(MODELS))
    assert set(dims.users.values()) == {"alice", "bob"}
    empty = dimensions(world.engine, world.org.id, end + 60, end + 200)
    assert (empty.agents, empty.models) == ([], [])


def series_by_start(points: list[Any]) -> dict[datetime, int]:
    out: dict[datetime, int] = defaultdict(int)
    for p in points:
        out[p.start] += p.cost_nanousd
    return dict(out)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"])
def test_day_and_hour_series_cut_in_the_org_zone(
    world: World, calls: list[dict[str, Any]], zone: str
) -> None:
    end = minute(NOW) + 1
    scope = SpendScope(world.org.id, end - 3 * 1440 + 7, end)
    for resolution in ("day", "hour"):
        got = series_by_start(spend_series(world.engine, scope, resolution, zone))
        want: dict[datetime, int] = defaultdict(int)
        for r in raw(calls, scope.start_minute, scope.end_minute):
            local = datetime.fromtimestamp(r["start_ns"] / 1e9, UTC).astimezone(ZoneInfo(zone))
            local = local.replace(minute=0, second=0, microsecond=0)
            if resolution == "day":
                local = local.replace(hour=0)
            want[local.astimezone(UTC)] += r["cost_nanousd"]
        assert got == dict(want), resolution


def test_minute_series_keeps_each_call_in_its_own_minute(world: World) -> None:
    at = NOW.replace(minute=37, second=5)
    world.spend("alice", 2, at)
    world.spend("alice", 1, at.replace(minute=0) - timedelta(minutes=50))
    end = minute(NOW.replace(minute=59)) + 1
    scope = SpendScope(world.org.id, end - 180, end)  # three hours: two whole hours inside
    got = series_by_start(spend_series(world.engine, scope, "minute", "UTC"))
    assert got == {
        at.replace(second=0): 2 * USD,
        at.replace(minute=10, second=0) - timedelta(hours=1): USD,
    }


def test_status_states_equal_the_calls_in_each_budget_window(
    world: World, calls: list[dict[str, Any]]
) -> None:
    world.set_zone("Asia/Kolkata")  # windows start at :30 UTC: ragged minutes at both ends
    default_day = world.budget("user", None, "day", 5)
    alice_day = world.budget("user", "alice", "day", 9)  # replaces the default for alice
    codex_week = world.budget("user", "alice", "week", 50, agent="codex")
    org_month = world.budget("org", None, "month", 1000)
    key_hour = world.budget("key", None, "hour", 2, model="gpt-5")
    late = world.call("bob", 1.5, NOW - timedelta(minutes=3), model="gpt-5")
    world.write(late)
    calls = [*calls, late]
    raises = (  # (budget, subject, amount, until): bob's raise, the org's, an expired one
        (default_day.id, world.users["bob"], 3, NOW + timedelta(days=1)),
        (org_month.id, world.org.id, 5, NOW + timedelta(days=1)),
        (org_month.id, world.org.id, 70, NOW - timedelta(minutes=1)),
    )
    with world.engine.begin() as conn:
        for request_id, (budget_id, subject, usd, until) in enumerate(raises, start=1):
            row = {"budget_id": budget_id, "subject_id": subject, "request_id": request_id}
            conn.execute(insert(OVERRIDES).values(**row, amount_nanousd=usd * USD, until=until))
    with world.engine.connect() as conn:
        states = status_states(conn, world.org, NOW)
    got = {(s.budget.id, s.subject_id): s for s in states}
    alice, bob = world.users["alice"], world.users["bob"]
    expected_keys = {
        (alice_day.id, alice),
        (codex_week.id, alice),
        (org_month.id, world.org.id),
        (default_day.id, bob),
    } | {(key_hour.id, k) for k in world.keys.values() if _spent_in(calls, key_hour, k)}
    assert (key_hour.id, world.keys["bob"]) in expected_keys
    assert set(got) == expected_keys
    for (_, subject), s in got.items():
        b = s.budget
        window = window_at(b.window, NOW, "Asia/Kolkata")
        recent = recent_start_minute(window, NOW)
        match: dict[str, Any] = {"agent": b.agent} if b.agent else {}
        match |= {"model": b.model} if b.model else {}
        match |= {{"org": "org_id", "user": "user_id", "key": "key_id"}[b.scope]: subject}
        assert s.spent_nanousd == cost(raw(calls, window.start_minute, window.end_minute, **match))
        assert s.recent_nanousd == cost(raw(calls, recent, window.end_minute, **match))
        assert s.window == window
    assert got[(default_day.id, bob)].limit_nanousd == 8 * USD  # 5 + the raise
    assert got[(alice_day.id, alice)].limit_nanousd == 9 * USD
    assert got[(org_month.id, world.org.id)].limit_nanousd == 1005 * USD
    assert got[(org_month.id, world.org.id)].spent_nanousd == cost(
        raw(calls, *_minutes(window_at("month", NOW, "Asia/Kolkata")))
    )
    with world.engine.connect() as conn:
        only = status_states(conn, world.org, NOW, [default_day.id])
        assert {(s.budget.id, s.subject_id) for s in only} == {(default_day.id, bob)}
        assert org_limits(conn, world.org.id, NOW) == {"month": 1005 * USD}


def _minutes(w: Any) -> tuple[int, int]:
    return w.start_minute, w.end_minute


def _spent_in(calls: list[dict[str, Any]], b: Any, key_id: int) -> bool:
    w = window_at(b.window, NOW, "Asia/Kolkata")
    return bool(raw(calls, w.start_minute, w.end_minute, key_id=key_id, model=b.model))
