"""End to end: OTLP in through a live server -> budget status within 1 s -> alert -> webhook."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from prometheus_client.parser import text_string_to_metric_families

from collector_processor.budgets.control import AlertingConfig
from otelspend.cli import main
from tests.collector_processor.budgets.hook import Hook, wait_for, webhook_receiver
from tests.otelspend.conftest import LiveServer, run_server
from tests.otelspend.test_e2e_call_matching import claude_code_call, send

DAY_NS = 86_400 * 1_000_000_000

SONNET_CALL: dict[str, Any] = {  # $3/M input, $15/M output: 10_000*3 + 2_000*15 = $0.060000
    "gen_ai.operation.name": "chat",
    "gen_ai.agent.name": "claude-code",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.usage.input_tokens": 10_000,
    "gen_ai.usage.output_tokens": 2_000,
}


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_receiver() as state:
        yield state


@pytest.fixture
def server(db_url: str, hook: Hook) -> Iterator[LiveServer]:
    alerting = AlertingConfig(webhooks=(hook.url,), ui_url="http://ui.test", webhook_backoff_s=0.05)
    yield from run_server(db_url, decode_workers=0, alerting=alerting)


def cli(db: str, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--db", db, "--org", "acme", "--as", "root"])
    assert result.exit_code == 0, result.output
    return result.output


def export(server: LiveServer, calls: int) -> None:
    """Send `calls` priced model calls with the real OTLP/HTTP exporter (returns after ack)."""
    exporter = OTLPSpanExporter(
        endpoint=f"{server.http_endpoint}/v1/traces",
        headers={"authorization": f"Bearer {server.key}"},
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "agent-svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("e2e")
    for _ in range(calls):
        with tracer.start_as_current_span("chat claude-sonnet-4-5", attributes=SONNET_CALL):
            pass
    provider.shutdown()


def thresholds(hook: Hook) -> list[dict[str, object]]:
    """The structured part of every threshold alert the webhook received, in order."""
    return [b["otelspend"] for b in hook.bodies if b["otelspend"]["kind"] == "threshold"]


def test_ingest_to_status_to_alert_to_webhook(server: LiveServer, hook: Hook) -> None:
    out = cli(
        server.db,
        "budgets",
        "set",
        "--scope",
        "user:alice",
        "--window",
        "day",
        "--limit",
        "0.10",
        "--mode",
        "hard",
        "--json",
    )
    budget_id = json.loads(out)["id"]
    export(server, 1)  # $0.06: 60% of $0.10
    acked = time.monotonic()
    [state] = json.loads(cli(server.db, "budgets", "status", "--json"))
    # "projected" too, depending on the time of day the test runs (the burn-rate forecast)
    assert (state["spent_usd"], state["status"] in ("warning", "projected")) == ("0.060000", True)
    wait_for(lambda: thresholds(hook), 1.0)
    assert time.monotonic() - acked < 1.0, "alert not delivered within 1 s of the commit"
    [first] = thresholds(hook)
    assert (first["threshold_pct"], first["budget_id"]) == (50, budget_id)
    text = next(b["text"] for b in hook.bodies if b["otelspend"] is first)
    assert "user alice reached 50% of its daily budget: $0.06 of $0.10" in text
    assert str(first["link"]).startswith(f"http://ui.test/traces?budget={budget_id}&")

    export(server, 1)  # $0.12: 80% and 100% cross together; 50% is not repeated
    wait_for(lambda: len(thresholds(hook)) == 3, 2.0)
    assert sorted(t["threshold_pct"] for t in thresholds(hook)[1:]) == [80, 100]  # type: ignore
    assert any("New calls are blocked by the gateway" in b["text"] for b in hook.bodies)
    [state] = json.loads(cli(server.db, "budgets", "status", "--json"))
    assert (state["spent_usd"], state["status"], state["utilization_pct"]) == (
        "0.120000",
        "blocked",
        120.0,
    )
    listed = cli(server.db, "alerts", "list", "--kind", "threshold")
    assert listed.count("delivery: deliveredx1") == 3


def scrape(server: LiveServer) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """GET /metrics, parsed: (sample name, labels) -> value."""
    with urllib.request.urlopen(f"{server.http_endpoint}/metrics", timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_endpoint(server: LiveServer) -> None:
    cli(server.db, "budgets", "set", "--scope", "user:alice", "--window", "month", "--limit", "1")
    export(server, 2)
    # One Claude Code call told by its span and by its log event, two months back (outside
    # the budget's window): two rows stored, the second a matched duplicate.
    for signal, body in claude_code_call("pb", offset_ns=-60 * DAY_NS).items():
        send(server, "pb", signal, body)
    assert server.running.control is not None
    server.running.control.evaluator.flush(5)
    got = scrape(server)
    dims = {
        "org": "acme",
        "workspace": "platform",
        "user": "alice",
        "agent": "claude-code",
        "model": "claude-sonnet-4-5",
    }
    assert got[("otelspend_spend_usd_total", frozenset(dims.items()))] == 0.12
    assert got[("otelspend_tokens_total", frozenset({**dims, "type": "input"}.items()))] == 20000
    budget = {
        "budget_id": "1",
        "org": "acme",
        "scope": "user",
        "subject": "alice",
        "agent": "",
        "model": "",
        "window": "month",
        "mode": "soft",
    }
    assert got[("otelspend_budget_utilization_ratio", frozenset(budget.items()))] == 0.12
    assert got[("otelspend_budget_limit_usd", frozenset(budget.items()))] == 1.0
    # the two exported spans and the fixture's llm_request and interaction spans
    assert got[("otelspend_ingest_accepted_total", frozenset({("signal", "traces")}))] == 4
    assert got[("otelspend_write_queue_depth", frozenset())] == 0
    assert got[("otelspend_commit_latency_seconds_count", frozenset())] >= 1
    assert got[("otelspend_calls_inserted_total", frozenset())] == 4
    assert got[("otelspend_calls_matched_total", frozenset())] == 1
    assert got[("otelspend_calls_duplicate_total", frozenset())] == 0
    assert ("otelspend_alerts_raised_total", frozenset({("kind", "threshold")})) not in got
    health = json.loads(urllib.request.urlopen(f"{server.http_endpoint}/health").read())
    assert health["alerting"]["webhooks"][0].startswith("http://127.0.0.1:")
