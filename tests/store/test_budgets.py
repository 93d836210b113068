"""Budgets in the store (SQLite + PostgreSQL): window sums, defaults, overrides, roles, audit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from collector_processor.budgets.evaluate import CallScope, hard_budgets_for, status_states
from store.audit import list_audit
from store.budgets import BudgetSpec, delete_budget, load_budgets, set_budget
from store.members import Actor, PermissionDenied, add_member, remove_member, resolve_actor
from tests.collector_processor.budgets.world import USD, World, make_world

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


def by_subject(world: World, now: datetime = NOW) -> dict[tuple[int, str, int], tuple[int, int]]:
    """(budget id, scope, subject) -> (spent, effective limit) of every state in force."""
    with world.engine.connect() as conn:
        states = status_states(conn, world.org, now)
    return {
        (s.budget.id, s.budget.scope, s.subject_id): (s.spent_nanousd, s.limit_nanousd)
        for s in states
    }


def test_window_spend_in_the_org_time_zone(world: World) -> None:
    world.set_zone("America/New_York")
    b = world.budget("user", "alice", "day", 100)
    world.spend("alice", 1, datetime(2026, 11, 23, 4, 59, tzinfo=UTC))  # 23:59 yesterday NY
    world.spend("alice", 2, datetime(2026, 11, 23, 5, 0, tzinfo=UTC))  # 00:00 today NY
    world.spend("alice", 4, NOW)
    world.spend("alice", 8, datetime(2026, 11, 24, 5, 0, tzinfo=UTC))  # tomorrow
    assert by_subject(world)[(b.id, "user", world.users["alice"])] == (6 * USD, 100 * USD)


def test_a_budget_set_mid_window_counts_what_was_already_spent(world: World) -> None:
    world.spend("alice", 30, NOW - timedelta(hours=2))
    b = world.budget("user", "alice", "day", 50)
    assert by_subject(world)[(b.id, "user", world.users["alice"])][0] == 30 * USD


def test_defaults_and_exceptions_in_status(world: World) -> None:
    default = world.budget("user", None, "day", 50)
    exception = world.budget("user", "alice", "day", 200)
    ended = world.budget("user", "bob", "day", 500, until=NOW - timedelta(minutes=1))
    world.spend("alice", 10, NOW)
    world.spend("bob", 20, NOW)
    got = by_subject(world)
    alice, bob = world.users["alice"], world.users["bob"]
    assert got[(exception.id, "user", alice)] == (10 * USD, 200 * USD)
    assert got[(default.id, "user", bob)] == (20 * USD, 50 * USD)  # bob's exception ended
    assert (default.id, "user", alice) not in got
    assert all(k[0] != ended.id for k in got)


def test_agent_model_and_scope_filters_sum_only_their_spend(world: World) -> None:
    cc = world.budget("user", "alice", "day", 10, agent="claude-code")
    gpt = world.budget("user", "alice", "day", 10, model="gpt-5")
    key = world.budget("key", "bob", "day", 10)
    org = world.budget("org", None, "month", 1000)
    world.spend("alice", 1, NOW)
    world.spend("alice", 2, NOW, agent="codex", model="gpt-5")
    world.spend("bob", 4, NOW)
    got = by_subject(world)
    assert got[(cc.id, "user", world.users["alice"])][0] == 1 * USD
    assert got[(gpt.id, "user", world.users["alice"])][0] == 2 * USD
    assert got[(key.id, "key", world.keys["bob"])][0] == 4 * USD
    assert got[(org.id, "org", world.org.id)][0] == 7 * USD


def test_gateway_api_hard_budgets_with_limit_spent_and_reset(world: World) -> None:
    hard = world.budget("user", "alice", "hour", 5, mode="hard")
    world.budget("org", None, "month", 1000)  # soft: not the gateway's business
    world.spend("alice", 3, NOW + timedelta(minutes=2))
    world.spend("alice", 3, NOW - timedelta(minutes=10))  # the previous hour
    call = CallScope(
        world.org.id,
        world.workspace_id,
        world.users["alice"],
        world.keys["alice"],
        "claude-code",
        "claude-sonnet-4-5",
    )
    with world.engine.connect() as conn:
        states = hard_budgets_for(conn, call, NOW + timedelta(minutes=5))
    assert [(s.budget.id, s.limit_nanousd, s.spent_nanousd, s.resets_at) for s in states] == [
        (hard.id, 5 * USD, 3 * USD, NOW + timedelta(hours=1))
    ]
    assert states[0].remaining_nanousd == 2 * USD


def test_set_is_an_audited_upsert_and_delete_is_audited(world: World) -> None:
    spec = BudgetSpec(world.org.id, "user", world.users["alice"], "day", 50 * USD)
    with world.engine.begin() as conn:
        first, created = set_budget(conn, spec, "root", "acme")
        hard = replace(spec, limit_nanousd=80 * USD, mode="hard")
        again, created_again = set_budget(conn, hard, "root", "acme")
    assert created and not created_again and first.id == again.id
    assert (again.limit_nanousd, again.mode) == (80 * USD, "hard")
    with world.engine.begin() as conn:
        delete_budget(conn, again, "root", "acme")
        assert load_budgets(conn, world.org.id) == []
    trail = list_audit(world.engine, entity_prefix=f"acme/budget/{first.id}")
    assert [r.action for r in trail] == ["budget.delete", "budget.update", "budget.create"]
    assert trail[1].before["limit_nanousd"] == 50 * USD
    assert trail[1].after["limit_nanousd"] == 80 * USD and trail[1].actor == "root"
    assert trail[0].after is None and trail[2].before is None


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="positive"):
        BudgetSpec(1, "user", 1, "day", 0)
    with pytest.raises(ValueError, match="scope"):
        BudgetSpec(1, "team", 1, "day", USD)
    with pytest.raises(ValueError, match="org budget"):
        BudgetSpec(1, "org", 0, "day", USD)


def test_roles_bootstrap_implicit_members_and_last_admin(world: World) -> None:
    with world.engine.begin() as conn:
        root = resolve_actor(conn, world.org, "root")  # first actor of the org: admin
        alice = resolve_actor(conn, world.org, "alice")  # a tracked user: implicit member
        assert (root.role, alice.role, alice.user_id) == ("admin", "member", world.users["alice"])
        with pytest.raises(PermissionDenied, match="not a member"):
            resolve_actor(conn, world.org, "mallory")
        with pytest.raises(PermissionDenied, match="only an admin"):
            add_member(conn, world.org, alice, "mallory", "admin", "")
        add_member(conn, world.org, root, "carol", "admin", "")
        assert resolve_actor(conn, world.org, "carol").is_admin
        carol = resolve_actor(conn, world.org, "carol")
        remove_member(conn, world.org, carol, "root")
        with pytest.raises(PermissionDenied, match="last admin"):
            remove_member(conn, world.org, carol, "carol")
        with pytest.raises(PermissionDenied, match="last admin"):
            add_member(conn, world.org, carol, "carol", "member", "")
    actions = [r.action for r in list_audit(world.engine, entity_prefix="acme/member/")]
    assert actions == ["member.remove", "member.add", "member.bootstrap"]
    assert isinstance(root, Actor)
