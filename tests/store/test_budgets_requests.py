"""The budget-increase workflow and its audit trail (SQLite + PostgreSQL), incl. races."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from collector_processor.budgets.evaluate import status_states
from store.audit import list_audit
from store.budget_requests import (
    BudgetRequest,
    RequestError,
    create_request,
    decide_request,
    list_requests,
)
from store.budgets import OVERRIDES, Budget
from store.members import Actor, PermissionDenied, add_member, resolve_actor
from tests.collector_processor.budgets.world import USD, World, make_world

LATER = datetime.now(UTC) + timedelta(days=3)


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


def actors(world: World) -> dict[str, Actor]:
    """root (first: admin), carol (admin), alice and bob (tracked users: members)."""
    with world.engine.begin() as conn:
        root = resolve_actor(conn, world.org, "root")
        add_member(conn, world.org, root, "carol", "admin", "")
        add_member(conn, world.org, root, "dave", "admin", "")
        return {
            n: resolve_actor(conn, world.org, n) for n in ("root", "carol", "dave", "alice", "bob")
        }


def file(
    world: World,
    who: Actor,
    budget: Budget,
    usd: int,
    subject: str = "alice",
    until: datetime = LATER,
) -> BudgetRequest:
    with world.engine.begin() as conn:
        return create_request(
            conn,
            world.org,
            who,
            budget,
            world.users[subject],
            usd * USD,
            until,
            "release week",
            ("trace-1",),
        )


def limit_of(world: World, budget: Budget, subject: str = "alice") -> int:
    with world.engine.connect() as conn:
        states = status_states(conn, world.org, datetime.now(UTC), [budget.id])
    by = {s.subject_id: s.limit_nanousd for s in states}
    return by.get(world.users[subject], budget.limit_nanousd)


def test_approval_applies_an_additive_expiring_raise_and_audits_every_step(world: World) -> None:
    who = actors(world)
    b = world.budget("user", "alice", "day", 50)
    req = file(world, who["alice"], b, 25)
    assert (req.status, req.requested_by, req.traces) == ("pending", "alice", ("trace-1",))
    assert limit_of(world, b) == 50 * USD
    done = decide_request(world.engine, world.org, who["carol"], req.id, True, "ship it")
    assert (done.status, done.decided_by, done.decision_note) == ("approved", "carol", "ship it")
    assert limit_of(world, b) == 75 * USD
    second = file(world, who["alice"], b, 5, until=datetime.now(UTC) + timedelta(hours=1))
    decide_request(world.engine, world.org, who["root"], second.id, True, "")
    assert limit_of(world, b) == 80 * USD  # additive
    with world.engine.connect() as conn:  # expiry: seen from after `until`
        later = status_states(conn, world.org, datetime.now(UTC) + timedelta(hours=2), [b.id])
    assert later[0].limit_nanousd == 75 * USD
    trail = list_audit(world.engine, entity_prefix="acme/")
    assert [(r.actor, r.action) for r in trail if r.action.startswith(("request", "budget.o"))] == [
        ("root", "request.approve"),
        ("root", "budget.override"),
        ("alice", "request.create"),
        ("carol", "request.approve"),
        ("carol", "budget.override"),
        ("alice", "request.create"),
    ]
    override = next(r for r in trail if r.action == "budget.override" and r.actor == "carol")
    assert override.before["limit_nanousd"] == 50 * USD
    assert override.after["limit_nanousd"] == 75 * USD
    approve = next(r for r in trail if r.action == "request.approve" and r.actor == "carol")
    assert approve.before["status"] == "pending" and approve.after["status"] == "approved"
    assert approve.entity == f"acme/request/{req.id}"


def test_self_approval_is_refused_and_audited(world: World) -> None:
    who = actors(world)
    b = world.budget("org", None, "month", 1000)
    req = file(world, who["carol"], b, 100)  # an admin asking for the org
    with pytest.raises(PermissionDenied, match="another admin decides"):
        decide_request(world.engine, world.org, who["carol"], req.id, True, "")
    with pytest.raises(PermissionDenied, match="only an admin"):
        decide_request(world.engine, world.org, who["alice"], req.id, True, "")
    with world.engine.connect() as conn:
        assert list_requests(conn, world.org.id)[0].status == "pending"
    refusals = [r for r in list_audit(world.engine, action_prefix="request.approve_refused")]
    assert [r.actor for r in refusals] == ["alice", "carol"]
    assert "another admin" in refusals[1].after["reason"]


def test_deny_changes_nothing_and_a_decided_request_stays_decided(world: World) -> None:
    who = actors(world)
    b = world.budget("user", None, "day", 50)  # a default: the raise is alice's only
    req = file(world, who["alice"], b, 20)
    denied = decide_request(world.engine, world.org, who["root"], req.id, False, "not now")
    assert denied.status == "denied" and limit_of(world, b) == 50 * USD
    with pytest.raises(RequestError, match="already denied by root"):
        decide_request(world.engine, world.org, who["carol"], req.id, True, "")
    with pytest.raises(RequestError, match="no request 999"):
        decide_request(world.engine, world.org, who["carol"], 999, True, "")


def test_raise_on_a_default_is_for_one_subject(world: World) -> None:
    who = actors(world)
    b = world.budget("user", None, "day", 50)
    world.spend("alice", 1, datetime.now(UTC))
    world.spend("bob", 1, datetime.now(UTC))
    req = file(world, who["alice"], b, 20)
    decide_request(world.engine, world.org, who["root"], req.id, True, "")
    assert (limit_of(world, b, "alice"), limit_of(world, b, "bob")) == (70 * USD, 50 * USD)


def test_members_file_only_for_their_own_spend(world: World) -> None:
    who = actors(world)
    b = world.budget("user", "bob", "day", 50)
    with pytest.raises(PermissionDenied, match="own spend"):
        file(world, who["alice"], b, 10, subject="bob")
    with pytest.raises(RequestError, match="future"):
        file(world, who["bob"], b, 10, subject="bob", until=datetime.now(UTC) - timedelta(1))
    assert file(world, who["root"], b, 10, subject="bob").status == "pending"  # admins may


@pytest.mark.parametrize("approvers", [2, 6])
def test_concurrent_approvals_apply_once(world: World, approvers: int) -> None:
    who = actors(world)
    with world.engine.begin() as conn:
        for i in range(approvers):
            add_member(conn, world.org, who["root"], f"admin{i}", "admin", "")
        admins = [resolve_actor(conn, world.org, f"admin{i}") for i in range(approvers)]
    b = world.budget("user", "alice", "day", 50)
    req = file(world, who["alice"], b, 25)
    start = threading.Barrier(approvers)
    outcomes: list[str] = []

    def approve(actor: Actor) -> None:
        start.wait()
        try:
            decide_request(world.engine, world.org, actor, req.id, True, "race")
            outcomes.append("approved")
        except Exception as exc:  # noqa: BLE001 - every outcome is asserted below
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=approve, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(outcomes) == approvers and outcomes.count("approved") == 1, outcomes
    assert all(
        o.startswith("RequestError: request") and "already approved" in o
        for o in outcomes
        if o != "approved"
    ), outcomes
    with world.engine.connect() as conn:
        overrides = conn.execute(select(func.count()).select_from(OVERRIDES)).scalar_one()
    assert overrides == 1 and limit_of(world, b) == 75 * USD
    approvals = list_audit(world.engine, action_prefix="request.approve")
    assert [r.action for r in approvals] == ["request.approve"]


def test_concurrent_approvals_of_different_requests_add_up(world: World) -> None:
    who = actors(world)
    b = world.budget("user", "alice", "day", 50)
    reqs = [file(world, who["alice"], b, 10), file(world, who["alice"], b, 15)]
    start = threading.Barrier(2)

    def approve(actor: Actor, req: BudgetRequest) -> None:
        start.wait()
        decide_request(world.engine, world.org, actor, req.id, True, "")

    threads = [
        threading.Thread(target=approve, args=(who[n], r))
        for n, r in zip(("carol", "dave"), reqs, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert limit_of(world, b) == 75 * USD
    overrides = [r for r in list_audit(world.engine, action_prefix="budget.override")]
    assert sorted((r.before["limit_nanousd"], r.after["limit_nanousd"]) for r in overrides) in (
        [(50 * USD, 60 * USD), (60 * USD, 75 * USD)],
        [(50 * USD, 65 * USD), (65 * USD, 75 * USD)],
    )


def test_a_default_shadowed_by_an_exception_cannot_be_raised(world: World) -> None:
    who = actors(world)
    default = world.budget("user", None, "day", 50)
    own = world.budget("user", "alice", "day", 200)
    with pytest.raises(RequestError, match=f"ask to raise budget {own.id}"):
        file(world, who["alice"], default, 10)
    assert file(world, who["bob"], default, 10, subject="bob").status == "pending"
