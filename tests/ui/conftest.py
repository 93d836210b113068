"""A store with known spend, ingested through a live server (the real path), for UI tests.

Known data (all ten minutes ago, org acme, zone UTC):
- alice (workspace platform, claude-code): trace T1 = 2 Sonnet 4.5 calls of 1000 uncached
  input + 1000 output tokens ($0.018 each, $0.036), evaluated "pass"; trace T2 = 1 Opus 4.1
  call of the same size ($0.090).  Alice: $0.126.
- bob (workspace web, support-bot on GenAI semconv): trace T3 = 1 gpt-4.1-mini call of 10,000
  input + 5,000 output ($0.004 + $0.008 = $0.012), evaluated "fail", and 1 call of the
  unpriced model acme-coder-7b.  Bob: $0.012.  Org: $0.138.
- Budgets: a default daily user budget of $0.10 (alice is over), an org monthly $100.
- Members: boss (admin, the first actor), alice (member); bob is a tracked user.

The page tests run on SQLite and on PostgreSQL (`ui_env`); the browser test on SQLite.
"""

from __future__ import annotations

import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from otelspend import demo_payloads as p
from otelspend.demo_payloads import Usage
from store.budgets import BudgetSpec, set_budget
from store.engine import make_engine
from store.identity import create_key
from store.members import add_member, resolve_actor
from store.subjects import find_org
from tests.otelspend.conftest import run_server

T1, T2, T3 = "11" * 16, "22" * 16, "33" * 16
NANO = 1_000_000_000


@dataclass(frozen=True)
class KnownStore:
    """The database URL and the ids the tests look for."""

    db: str
    org_budget_id: int
    user_budget_id: int


def _post(endpoint: str, signal: str, key: str, body: bytes) -> None:
    req = urllib.request.Request(f"{endpoint}/v1/{signal}", data=body, method="POST")
    req.add_header("Content-Type", "application/x-protobuf")
    req.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200


def _alice_spans(t: int) -> list[p.Span]:
    s = 1_000_000_000
    root1, root2 = bytes.fromhex("a1" * 8), bytes.fromhex("a2" * 8)
    ok = p.evaluation(t + 9 * s, "task_success", "pass", 1.0, "tests pass")
    sonnet = Usage("claude-sonnet-4-5", 1000, 0, 0, 1000)
    opus = Usage("claude-opus-4-1", 1000, 0, 0, 1000)
    t1, t2 = bytes.fromhex(T1), bytes.fromhex(T2)
    return [
        p.span((t1, root1, b""), "claude_code.interaction", (t, t + 9 * s), {}, events=[ok]),
        p.claude_call((t1, bytes.fromhex("b1" * 8), root1), (t + s, t + 3 * s), sonnet, "sess-a"),
        p.span(
            (t1, bytes.fromhex("b2" * 8), root1),
            "claude_code.tool Bash",
            (t + 3 * s, t + 4 * s),
            {"tool_name": "Bash"},
            error="exit status 1",
        ),  # fmt: skip
        p.claude_call(
            (t1, bytes.fromhex("b3" * 8), root1), (t + 5 * s, t + 8 * s), sonnet, "sess-a"
        ),
        p.span((t2, root2, b""), "claude_code.interaction", (t + 20 * s, t + 30 * s), {}),
        p.claude_call(
            (t2, bytes.fromhex("c1" * 8), root2), (t + 21 * s, t + 29 * s), opus, "sess-a"
        ),
    ]


def _bob_spans(t: int) -> list[p.Span]:
    s = 1_000_000_000
    t3, root = bytes.fromhex(T3), bytes.fromhex("d0" * 8)
    fail = p.evaluation(t + 9 * s, "resolution", "fail", 0.1, "escalated")
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support-bot"}
    mini = Usage("gpt-4.1-mini", 10_000, 0, 0, 5_000)
    custom = Usage("acme-coder-7b", 500, 0, 0, 100)
    return [
        p.span((t3, root, b""), "invoke_agent support-bot", (t, t + 9 * s), attrs, events=[fail]),
        p.genai_call((t3, bytes.fromhex("d1" * 8), root), (t + s, t + 2 * s), mini, "openai"),
        p.genai_call((t3, bytes.fromhex("d2" * 8), root), (t + 3 * s, t + 4 * s), custom, "acme"),
    ]


def _setup_org(db: str) -> tuple[str, str, int, int]:
    engine = make_engine(db)
    alice, _ = create_key(engine, org="acme", workspace="platform", user="alice", label="laptop")
    bob, _ = create_key(engine, org="acme", workspace="web", user="bob", label="bot")
    with engine.begin() as conn:
        org = find_org(conn, "acme")
        boss = resolve_actor(conn, org, "boss")  # the first actor of the org: admin
        add_member(conn, org, boss, "alice", "member", "alice")
        org_budget, _ = set_budget(
            conn, BudgetSpec(org.id, "org", org.id, "month", 100 * NANO), "boss", "acme"
        )
        user_budget, _ = set_budget(
            conn, BudgetSpec(org.id, "user", 0, "day", NANO // 10, mode="hard"), "boss", "acme"
        )
    engine.dispose()
    return alice, bob, org_budget.id, user_budget.id


def _known(db: str) -> Iterator[KnownStore]:
    for server in run_server(db, decode_workers=0):
        alice, bob, org_budget, user_budget = _setup_org(db)
        now_ns = time.time_ns()
        # Inside today's UTC window whatever the hour: a minute ago, or the day's first minute.
        t = max(now_ns - 600 * NANO, (now_ns // (86400 * NANO)) * 86400 * NANO + NANO)
        _post(
            server.http_endpoint, "traces", alice, p.encode_traces("claude-code", _alice_spans(t))
        )
        _post(server.http_endpoint, "traces", bob, p.encode_traces("support-bot", _bob_spans(t)))
        yield KnownStore(db, org_budget, user_budget)


@pytest.fixture(autouse=True)
def _real_main_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the interpreter's __main__ module back after each test.

    Streamlit's script runner (AppTest runs it in this process) installs the page script as
    sys.modules["__main__"] and never restores it.  A "spawn" process started afterwards by
    any test of the session (the receiver's decode workers) re-runs its parent's __main__
    script first: it would run ui/app.py outside Streamlit and die (BrokenProcessPool).
    """
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


@pytest.fixture(scope="session")
def known_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnownStore]:
    """The known data above, in a fresh SQLite store (built once per test session)."""
    yield from _known(f"sqlite:///{tmp_path_factory.mktemp('ui')}/ui.db")


@pytest.fixture(scope="session")
def known_pg_store(pg_url: str, _pg_admin: psycopg.Connection) -> Iterator[KnownStore]:
    """The same data in a PostgreSQL database of the test server (dropped afterwards)."""
    name = f"t_ui_{uuid.uuid4().hex}"
    _pg_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield from _known(make_url(pg_url).set(database=name).render_as_string(False))
    finally:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        _pg_admin.execute(drop.format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ui_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> KnownStore:
    """Environment of a local UI on the known store (either backend), as the admin `boss`."""
    known: KnownStore = request.getfixturevalue(
        "known_store" if request.param == "sqlite" else "known_pg_store"
    )
    monkeypatch.chdir(tmp_path)  # no otelspend.toml or .streamlit/ of the developer's
    for name in ("OTELSPEND_UI_PASSWORD", "OTELSPEND_UI_ADMIN_PASSWORD", "OTELSPEND_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTELSPEND_DB", known.db)
    monkeypatch.setenv("OTELSPEND_UI_HOST", "127.0.0.1")
    monkeypatch.setenv("OTELSPEND_ACTOR", "boss")
    monkeypatch.setenv("OTELSPEND_ORG", "acme")
    return known
