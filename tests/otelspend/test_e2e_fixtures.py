"""Real-client fixtures through a running server: every call counted once, exact dollars."""

from __future__ import annotations

import itertools

import pytest

from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import FIXTURES, grpc_export, post_fixture, spend_json

CLAUDE = "claude-code-2.1.197"
CODEX = "codex-0.169.0"


@pytest.mark.parametrize("fmt", ["pb", "json"])
def test_claude_code_all_signals_twice_is_one_call(live_server: LiveServer, fmt: str) -> None:
    for _, signal in itertools.product(range(2), ("traces", "logs", "metrics")):
        assert post_fixture(live_server.http_endpoint, CLAUDE, signal, fmt, live_server.key) == 200
    [row] = spend_json(live_server.db, "user")
    assert row["user"] == "alice"
    assert row["calls"] == 1
    assert row["cost_usd"] == "0.021000"
    assert (
        row["input_tokens"],
        row["cache_read_tokens"],
        row["cache_write_tokens"],
        row["output_tokens"],
        row["unpriced_calls"],
    ) == (1200, 5000, 800, 300, 0)
    [agent] = spend_json(live_server.db, "agent")
    assert agent["agent"] == "claude-code"


def test_claude_code_pb_and_json_captures_are_two_sessions(live_sqlite_server: LiveServer) -> None:
    # The .pb and .json captures come from two separate `claude -p` runs (different
    # session.id and trace ids, 4 s apart): two real calls, each counted once.
    for _, signal, fmt in itertools.product(
        range(2), ("traces", "logs", "metrics"), ("pb", "json")
    ):
        assert (
            post_fixture(
                live_sqlite_server.http_endpoint, CLAUDE, signal, fmt, live_sqlite_server.key
            )
            == 200
        )
    [row] = spend_json(live_sqlite_server.db, "user")
    assert (row["calls"], row["cost_usd"], row["input_tokens"]) == (2, "0.042000", 2400)


@pytest.mark.parametrize("order", [("metrics", "logs", "traces"), ("traces", "logs", "metrics")])
def test_claude_code_order_does_not_matter(
    live_sqlite_server: LiveServer, order: tuple[str, ...]
) -> None:
    for signal in order:
        assert (
            post_fixture(
                live_sqlite_server.http_endpoint, CLAUDE, signal, "pb", live_sqlite_server.key
            )
            == 200
        )
    [row] = spend_json(live_sqlite_server.db, "model")
    assert (row["calls"], row["cost_usd"]) == (1, "0.021000")


def test_claude_code_metrics_alone_still_bill(live_sqlite_server: LiveServer) -> None:
    assert (
        post_fixture(
            live_sqlite_server.http_endpoint, CLAUDE, "metrics", "json", live_sqlite_server.key
        )
        == 200
    )
    [row] = spend_json(live_sqlite_server.db, "user")
    assert row["cost_usd"] == "0.021000"


def test_codex_over_grpc_twice_is_one_call(live_server: LiveServer) -> None:
    for _ in range(2):
        for signal in ("traces", "logs"):
            body = (FIXTURES / CODEX / f"{signal}.otlp.pb").read_bytes()
            grpc_export(live_server.grpc_port, signal, body, live_server.key)
    [row] = spend_json(live_server.db, "model")
    assert row["model"].startswith("gpt-5.1")
    assert (row["calls"], row["cost_usd"]) == (1, "0.003375")
    assert (
        row["input_tokens"],
        row["cache_read_tokens"],
        row["output_tokens"],
        row["reasoning_tokens"],
    ) == (200, 1000, 300, 100)
    [agent] = spend_json(live_server.db, "agent")
    assert agent["agent"] == "codex"
