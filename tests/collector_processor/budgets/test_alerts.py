"""Each alert kind fires exactly once per window and re-arms in the next (SQLite + PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector_processor.budgets.alerts import raise_unpriced_model_alert
from collector_processor.budgets.evaluator import BudgetEvaluator
from collector_processor.budgets.runaway import RunawayPolicy
from store.alerts import Alert, list_alerts
from tests.collector_processor.budgets.world import USD, World

DAY1 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def fired(world: World, kind: str) -> list[Alert]:
    return sorted(list_alerts(world.engine, org_id=world.org.id, kind=kind), key=lambda a: a.id)


def step(
    world: World, ev: BudgetEvaluator, user: str, usd: float, at: datetime, **kw: object
) -> list[Alert]:
    """Commit one call and run one evaluation pass over it."""
    return ev.evaluate([world.spend(user, usd, at, **kw)])


def test_threshold_alerts_once_per_window_and_threshold(world: World) -> None:
    b = world.budget("user", None, "day", 10)  # default: $10/day for every user
    ev = world.evaluator()
    world.clock.now = DAY1
    for usd, expect in [(4, []), (2, [50]), (0.5, []), (2, [80]), (0.1, []), (2, [100]), (1, [])]:
        got = step(world, ev, "alice", usd, DAY1 - timedelta(hours=1))
        assert [a.threshold_pct for a in got if a.kind == "threshold"] == expect, usd
    # A fresh evaluator (a restarted server, another replica) does not repeat them either.
    assert [
        a for a in step(world, world.evaluator(), "alice", 1, DAY1) if a.kind == "threshold"
    ] == []
    # Bob is his own subject of the same default: his alerts are separate.
    assert [a.threshold_pct for a in step(world, ev, "bob", 9, DAY1) if a.kind == "threshold"] == [
        50,
        80,
    ]
    # The next day re-arms every threshold.
    world.clock.now = DAY2
    again = step(world, ev, "alice", 6, DAY2 - timedelta(hours=1))
    assert [a.threshold_pct for a in again if a.kind == "threshold"] == [50]
    alice = [a for a in fired(world, "threshold") if a.subject == "user:alice"]
    assert [(a.threshold_pct, a.window_start) for a in alice] == [
        (50, DAY1.replace(hour=0)),
        (80, DAY1.replace(hour=0)),
        (100, DAY1.replace(hour=0)),
        (50, DAY2.replace(hour=0)),
    ]
    first = alice[0]
    assert first.budget_id == b.id and first.user_id == world.users["alice"]
    assert first.limit_nanousd == 10 * USD and first.spent_nanousd == 6 * USD
    assert "user alice reached 50% of its daily budget: $6.00 of $10.00" in first.message
    assert first.link.startswith("http://127.0.0.1:8501/traces?budget=")


def test_projected_alert_with_exhaustion_time_once_per_window(world: World) -> None:
    world.budget("user", "alice", "day", 100)
    ev = world.evaluator()
    world.clock.now = DAY1  # 12:00; the burn rate is measured over 09:00-12:00
    assert [
        a for a in step(world, ev, "alice", 10, DAY1 - timedelta(hours=1)) if a.kind == "projected"
    ] == []
    got = [
        a
        for a in step(world, ev, "alice", 20, DAY1 - timedelta(minutes=30))
        if a.kind == "projected"
    ]
    # $30 in 3 h = $10/h: $30 + 12 h x $10 = $150 projected; the $70 left lasts 7 h.
    assert len(got) == 1
    assert got[0].projected_nanousd == 150 * USD
    assert got[0].exhaustion_at == DAY1 + timedelta(hours=7)
    assert "on course to exceed its daily budget" in got[0].message
    assert [a for a in step(world, ev, "alice", 5, DAY1) if a.kind == "projected"] == []
    world.clock.now = DAY2
    nxt = [
        a for a in step(world, ev, "alice", 40, DAY2 - timedelta(hours=1)) if a.kind == "projected"
    ]
    assert len(nxt) == 1 and nxt[0].window_start == DAY2.replace(hour=0)


def test_no_projection_early_in_the_window(world: World) -> None:
    world.budget("user", "alice", "day", 100)
    ev = world.evaluator()
    world.clock.now = DAY1.replace(hour=0, minute=20)  # less than 1/48 of the day
    assert step(world, ev, "alice", 30, DAY1.replace(hour=0, minute=10)) == []
    world.clock.now = DAY1.replace(hour=0, minute=40)  # same burn, now projectable
    assert [a.kind for a in step(world, ev, "alice", 1, DAY1.replace(hour=0, minute=30))] == [
        "projected"
    ]


def test_runaway_names_the_session_and_its_costliest_trace(world: World) -> None:
    ev = world.evaluator(runaway=RunawayPolicy(factor=5, min_nanousd_per_minute=USD))
    noon = DAY1
    world.clock.now = noon + timedelta(seconds=30)
    for m in range(10, 0, -1):  # a steady $0.20/min for ten minutes: the baseline
        assert step(world, ev, "alice", 0.2, noon - timedelta(minutes=m)) == []
    loop = [
        world.call("alice", 2.0, noon, trace_id="t-big"),
        world.call("alice", 1.0, noon + timedelta(seconds=5), trace_id="t-small"),
    ]
    got = ev.evaluate([world.write(*loop)])
    assert [(a.kind, a.subject, a.session_id, a.trace_id) for a in got] == [
        ("runaway", "session:s-alice", "s-alice", "t-big")
    ]  # the key's jump is the same event: named once, by its session
    assert "15x its recent baseline of $0.20/min" in got[0].message
    world.clock.now = noon + timedelta(minutes=5, seconds=30)
    assert step(world, ev, "alice", 5, noon + timedelta(minutes=5)) == []  # same hour
    # Next hour, a new baseline and a new jump: re-armed.
    hour2 = noon + timedelta(hours=1)
    world.clock.now = hour2 + timedelta(seconds=30)
    for m in range(5, 0, -1):
        step(world, ev, "alice", 0.2, hour2 - timedelta(minutes=m))
    assert [a.kind for a in step(world, ev, "alice", 4, hour2)] == ["runaway"]
    assert len(fired(world, "runaway")) == 2


def test_runaway_needs_history_and_a_real_jump(world: World) -> None:
    ev = world.evaluator()
    world.clock.now = DAY1 + timedelta(seconds=30)
    assert step(world, ev, "bob", 50, DAY1) == []  # a big first minute is not a jump
    for m in range(5, 0, -1):
        step(world, ev, "alice", 1.0, DAY1 - timedelta(minutes=m))
    assert step(world, ev, "alice", 4.0, DAY1) == []  # 4x: below the factor


def test_key_runaway_without_sessions(world: World) -> None:
    ev = world.evaluator()
    world.clock.now = DAY1 + timedelta(seconds=30)
    for m in range(5, 0, -1):
        step(world, ev, "bob", 0.3, DAY1 - timedelta(minutes=m), session_id="")
    got = step(world, ev, "bob", 6, DAY1, session_id="")
    assert [(a.kind, a.session_id, a.user_id) for a in got] == [("runaway", "", world.users["bob"])]
    assert got[0].subject.startswith("key:osk_")


def test_unpriced_model_alert_once_per_model(world: World) -> None:
    ev = world.evaluator()
    world.clock.now = DAY1
    got = step(world, ev, "alice", 0, DAY1, model="mystery-9", cost_nanousd=None)
    assert [(a.kind, a.model) for a in got] == [("unpriced_model", "mystery-9")]
    assert step(world, ev, "bob", 0, DAY1, model="mystery-9", cost_nanousd=None) == []
    assert raise_unpriced_model_alert(world.engine, world.org.id, "mystery-9", "anthropic") is None
    other = raise_unpriced_model_alert(world.engine, world.org.id, "mystery-10", "acme-ai")
    assert other is not None and other.id > 0 and "has no price" in other.message
    assert len(fired(world, "unpriced_model")) == 2


def test_evaluator_fed_by_the_writer_hook(world: World) -> None:
    """The hook only hands over; flush() waits for the pass the commit triggered."""
    world.budget("user", "alice", "day", 1)
    ev = world.evaluator()
    world.writer.close()
    from store.writer import StoreWriter

    world.writer = StoreWriter(world.engine, after_commit=[ev.on_commit])
    world.clock.now = DAY1
    for _ in range(5):
        world.spend("alice", 0.3, DAY1 - timedelta(minutes=1))
    assert ev.flush(5)
    pcts = [a.threshold_pct for a in fired(world, "threshold")]
    assert pcts == [50, 80, 100]
    assert 1 <= ev.passes <= 5
    ev.close()
