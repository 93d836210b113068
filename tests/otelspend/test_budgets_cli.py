"""The budgets, requests, alerts, audit and members commands, as people run them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from otelspend.actor import parse_until, parse_usd
from otelspend.cli import main
from tests.collector_processor.budgets.world import World, make_world


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    """The CLI is thin over the store, whose suite runs on both backends: SQLite suffices."""
    yield from make_world(sqlite_url)


@pytest.fixture
def any_world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


def run(world: World, *args: str, who: str = "root", ok: bool = True, **env: str) -> Result:
    result = CliRunner().invoke(
        main,
        [
            *args,
            "--db",
            str(world.engine.url.render_as_string(hide_password=False)),
            "--org",
            "acme",
            "--as",
            who,
        ],
        env=env or None,
    )
    assert (result.exit_code == 0) == ok, result.output
    return result


def as_json(result: Result) -> Any:
    return json.loads(result.output)


def test_budget_lifecycle_and_status(world: World) -> None:
    run(world, "budgets", "timezone", "Europe/Berlin")
    d = as_json(
        run(
            world,
            "budgets",
            "default",
            "--scope",
            "user",
            "--window",
            "daily",
            "--limit",
            "50",
            "--json",
        )
    )
    assert (d["target"], d["limit_usd"], d["is_default"]) == ("user:* (default)", "50.000000", True)
    e = as_json(
        run(
            world,
            "budgets",
            "set",
            "--scope",
            "user:alice",
            "--window",
            "day",
            "--limit",
            "$200",
            "--mode",
            "hard",
            "--until",
            "2099-01-31",
            "--json",
        )
    )
    assert (e["target"], e["mode"], e["until"]) == (
        "user:alice",
        "hard",
        "2099-01-31T23:00:00+00:00",
    )
    world.spend("alice", 12.5, datetime.now(UTC))
    world.spend("bob", 40, datetime.now(UTC))
    status = {s["subject"]: s for s in as_json(run(world, "budgets", "status", "--json"))}
    assert (
        status["alice"]["limit_usd"] == "200.000000" and status["alice"]["spent_usd"] == "12.500000"
    )
    assert status["bob"]["is_default"] and status["bob"]["utilization_pct"] == 80.0
    assert status["bob"]["timezone"] == "Europe/Berlin"
    only_bob = as_json(run(world, "budgets", "status", "--scope", "user:bob", "--json"))
    assert [s["subject"] for s in only_bob] == ["bob"]
    text = run(world, "budgets", "status").output
    assert "user:bob*" in text and "windows in Europe/Berlin" in text
    shown = as_json(run(world, "budgets", "show", str(d["id"]), "--json"))
    assert [s["subject"] for s in shown["states"]] == ["bob"]  # alice has her own budget
    assert len(as_json(run(world, "budgets", "list", "--json"))) == 2
    run(world, "budgets", "delete", str(e["id"]))
    status = {s["subject"]: s for s in as_json(run(world, "budgets", "status", "--json"))}
    assert status["alice"]["limit_usd"] == "50.000000"  # back on the default


def test_bad_input_says_what_is_wrong(world: World) -> None:
    cases = [
        (
            ["budgets", "set", "--scope", "user:alice", "--window", "fortnight", "--limit", "5"],
            "unknown window",
        ),
        (
            ["budgets", "set", "--scope", "user:zed", "--window", "day", "--limit", "5"],
            "no user 'zed'",
        ),
        (["budgets", "set", "--scope", "user", "--window", "day", "--limit", "5"], "name the user"),
        (["budgets", "set", "--scope", "team:x", "--window", "day", "--limit", "5"], "scope must"),
        (["budgets", "set", "--scope", "org", "--window", "day", "--limit", "-5"], "positive"),
        (
            [
                "budgets",
                "default",
                "--scope",
                "user",
                "--window",
                "day",
                "--limit",
                "5",
                "--thresholds",
                "50,abc",
            ],
            "whole percentages",
        ),
        (["budgets", "timezone", "Mars/Base"], "unknown time zone"),
        (["budgets", "show", "99"], "no budget 99"),
    ]
    for args, message in cases:
        assert message in run(world, *args, ok=False).output, args


def test_roles_members_and_the_actor_from_env_and_config(world: World, tmp_path: Path) -> None:
    run(world, "members", "list")  # root acts first: the org's admin
    refused = run(
        world,
        "budgets",
        "default",
        "--scope",
        "user",
        "--window",
        "day",
        "--limit",
        "5",
        who="alice",
        ok=False,
    )
    assert "alice is a member; only an admin can set budgets" in refused.output
    assert "not a member" in run(world, "budgets", "status", who="mallory", ok=False).output
    run(world, "members", "add", "carol", "--role", "admin")
    assert "last admin" not in run(world, "members", "remove", "root", who="carol").output
    listed = as_json(run(world, "members", "list", "--json", who="carol"))
    assert [(m["name"], m["role"]) for m in listed] == [("carol", "admin")]
    # --as is optional: OTELSPEND_ACTOR, then `actor` in the config file.
    db = str(world.engine.url.render_as_string(hide_password=False))
    env_run = CliRunner().invoke(
        main, ["members", "list", "--db", db, "--org", "acme"], env={"OTELSPEND_ACTOR": "alice"}
    )
    assert env_run.exit_code == 0
    cfg = tmp_path / "otelspend.toml"
    cfg.write_text(f'db = "{db}"\nactor = "alice"\norg = "acme"\n')
    cfg_run = CliRunner().invoke(
        main,
        [
            "--config",
            str(cfg),
            "budgets",
            "default",
            "--scope",
            "user",
            "--window",
            "day",
            "--limit",
            "5",
        ],
    )
    assert "alice is a member" in cfg_run.output  # the config's actor and db were used


def test_request_workflow_from_the_command_line(any_world: World) -> None:
    world = any_world
    run(world, "members", "add", "carol", "--role", "admin")
    b = as_json(
        run(
            world,
            "budgets",
            "default",
            "--scope",
            "user",
            "--window",
            "day",
            "--limit",
            "50",
            "--json",
        )
    )
    r = as_json(
        run(
            world,
            "requests",
            "create",
            "--budget",
            str(b["id"]),
            "--amount",
            "25",
            "--until",
            "7d",
            "--reason",
            "release week",
            "--trace",
            "t1",
            "--trace",
            "t2",
            "--json",
            who="alice",
        )
    )
    assert (r["status"], r["subject"], r["traces"], r["amount_usd"]) == (
        "pending",
        "alice",
        ["t1", "t2"],
        "25.000000",
    )
    assert (
        "another admin decides"
        not in run(world, "requests", "approve", str(r["id"]), who="alice", ok=False).output
    )
    assert [x["id"] for x in as_json(run(world, "requests", "list", "--json", who="bob"))] == []
    out = run(world, "requests", "approve", str(r["id"]), "--note", "go", who="carol").output
    assert f"request {r['id']} approved by carol: budget {b['id']} raised by 25.000000" in out
    again = run(world, "requests", "deny", str(r["id"]), who="root", ok=False).output
    assert "already approved by carol" in again
    world.spend("alice", 1, datetime.now(UTC))
    [mine] = as_json(run(world, "budgets", "status", "--json", who="alice"))
    assert mine["limit_usd"] == "75.000000"
    trail = as_json(run(world, "audit", "list", "--entity", "request", "--json"))
    assert [e["action"] for e in trail] == [
        "request.approve",
        "request.approve_refused",
        "request.create",
    ]
    assert (
        "only an admin can read the audit log"
        in run(world, "audit", "list", who="alice", ok=False).output
    )


def test_alerts_list_shows_members_their_own(world: World) -> None:
    world.budget("user", None, "day", 10)
    ev = world.evaluator()
    world.clock.now = datetime.now(UTC)
    ev.evaluate([world.spend("alice", 6, world.clock.now), world.spend("bob", 6, world.clock.now)])
    run(world, "members", "list")  # root: admin
    everyone = as_json(run(world, "alerts", "list", "--kind", "threshold", "--json"))
    assert sorted(a["subject"] for a in everyone) == ["user:alice", "user:bob"]
    alices = as_json(run(world, "alerts", "list", "--json", "--kind", "threshold", who="alice"))
    assert [a["subject"] for a in alices] == ["user:alice"]
    assert "delivery: -" in run(world, "alerts", "list").output


def test_money_and_expiry_parsing() -> None:
    assert parse_usd("50") == 50_000_000_000
    assert parse_usd("$0.000000001") == 1
    assert parse_usd("1,250.5") == 1_250_500_000_000
    for bad in ("0", "-1", "abc", "0.0000000001", "nan"):
        with pytest.raises(Exception, match="amount"):
            parse_usd(bad)
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert parse_until("7d", "UTC", now) == now + timedelta(days=7)
    # A date is inclusive: through the end of that day in the org's zone.
    assert parse_until("2026-12-01", "America/New_York") == datetime(2026, 12, 2, 5, tzinfo=UTC)
    assert parse_until("2026-12-01T09:00", "Europe/Berlin") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert parse_until("2026-12-01T09:00+00:00", "Europe/Berlin") == datetime(
        2026, 12, 1, 9, tzinfo=UTC
    )
