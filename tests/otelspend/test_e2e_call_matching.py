"""One call described by several channels, through a running server, is billed once: Claude
Code's span and log event a few milliseconds apart, the gateway's record and the client's
own telemetry — while two real calls with equal tokens stay two (both databases)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sqlalchemy import text

from collector_processor.auth import KeyAuthenticator
from gateway.providers.common import Usage
from gateway.record import CallFacts, CallRecorder, Trace
from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import CONTENT_TYPES, FIXTURES, post, spend_json

CLAUDE = FIXTURES / "claude-code-2.1.197"
MS = 1_000_000
LIVE_SKEW_NS = 16 * MS  # span end vs log time seen in a live Claude Code 2.1.197 run
API_REQUEST = "claude_code.api_request"
SOURCES = {"traces": "span", "logs": "log"}


def _shift_json(signal: str, shift_ns: int, suffix: str) -> bytes:
    """The JSON fixture with every record moved by shift_ns (spans also get new span ids)."""
    doc = json.loads((CLAUDE / f"{signal}.otlp.json").read_bytes())
    ids: tuple[str, ...] = ()
    if signal == "logs":
        records = [
            r for rl in doc["resourceLogs"] for sl in rl["scopeLogs"] for r in sl["logRecords"]
        ]
        times = ("timeUnixNano", "observedTimeUnixNano")
    else:
        records = [s for rs in doc["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
        times, ids = ("startTimeUnixNano", "endTimeUnixNano"), ("spanId", "parentSpanId")
    for rec in records:
        for field in times:
            rec[field] = str(int(rec[field]) + shift_ns)
        for field in ids:
            if rec.get(field):
                rec[field] = rec[field][: -len(suffix)] + suffix
    return json.dumps(doc).encode()


def _shift_pb(signal: str, shift_ns: int, suffix: str) -> bytes:
    """The protobuf fixture with every record moved by shift_ns (spans get new span ids)."""
    raw = (CLAUDE / f"{signal}.otlp.pb").read_bytes()
    if signal == "logs":
        logs = ExportLogsServiceRequest.FromString(raw)
        for rec in (r for rl in logs.resource_logs for sl in rl.scope_logs for r in sl.log_records):
            rec.time_unix_nano += shift_ns
            rec.observed_time_unix_nano += shift_ns
        return logs.SerializeToString()
    traces = ExportTraceServiceRequest.FromString(raw)
    tail = bytes.fromhex(suffix)
    for span in (s for rs in traces.resource_spans for ss in rs.scope_spans for s in ss.spans):
        span.start_time_unix_nano += shift_ns
        span.end_time_unix_nano += shift_ns
        span.span_id = span.span_id[: -len(tail)] + tail
        if span.parent_span_id:
            span.parent_span_id = span.parent_span_id[: -len(tail)] + tail
    return traces.SerializeToString()


def claude_code_call(fmt: str, offset_ns: int = 0, suffix: str = "00") -> dict[str, bytes]:
    """The fixture's traces and logs, moved by offset_ns, its log LIVE_SKEW_NS after the span.

    The captured log's time is the span end truncated to the millisecond; a live run showed
    it 16 ms later.  A new span-id suffix makes the spans of a moved copy new spans.
    """
    shift = _shift_json if fmt == "json" else _shift_pb
    return {
        "traces": shift("traces", offset_ns, suffix),
        "logs": shift("logs", offset_ns + LIVE_SKEW_NS, suffix),
    }


def send(live: LiveServer, fmt: str, signal: str, body: bytes) -> None:
    status, answer = post(
        live.http_endpoint, signal, body, key=live.key, content_type=CONTENT_TYPES[fmt]
    )
    assert status == 200, answer


def rollup_totals(live: LiveServer) -> tuple[int, int]:
    """(calls, nano-USD) summed over spend_minutes, the rollups budgets and the UI read."""
    with live.running.engine.connect() as conn:
        row = conn.execute(text("SELECT SUM(calls), SUM(cost_nanousd) FROM spend_minutes")).one()
    return int(row[0]), int(row[1])


def call_rows(live: LiveServer) -> list[tuple[str, str, bool, str]]:
    """(dialect, source, billed, duplicate_of) of every stored call, billed first."""
    with live.running.engine.connect() as conn:
        rows = conn.execute(text("SELECT dialect, source, billed, duplicate_of FROM llm_calls"))
        return sorted(((d, s, bool(b), dup) for d, s, b, dup in rows), key=lambda r: not r[2])


@pytest.mark.parametrize("fmt", ["pb", "json"])
@pytest.mark.parametrize("order", [("traces", "logs"), ("logs", "traces")])
def test_claude_code_span_and_log_16ms_apart_is_one_call(
    live_server: LiveServer, fmt: str, order: tuple[str, str]
) -> None:
    bodies = claude_code_call(fmt)
    for _ in range(2):  # and every export resent
        for signal in order:
            send(live_server, fmt, signal, bodies[signal])
    [row] = spend_json(live_server.db, "user")
    assert (row["calls"], row["cost_usd"], row["unpriced_calls"]) == (1, "0.021000", 0)
    tokens = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
    assert tuple(row[t] for t in tokens) == (1200, 5000, 800, 300)
    assert rollup_totals(live_server) == (1, 21_000_000)
    billed, duplicate = call_rows(live_server)
    assert billed[:3] == ("claude_code", SOURCES[order[0]], True)  # the first one stored
    assert duplicate[1:3] == (SOURCES[order[1]], False) and duplicate[3]


def test_two_equal_token_calls_of_one_session_stay_two(live_server: LiveServer) -> None:
    # The same session asks the same thing twice, 2 s apart: two calls with equal tokens,
    # each exported as a span and a log event 16 ms apart.
    calls = [claude_code_call("pb"), claude_code_call("pb", 2_000 * MS, "aa")]
    for signal in ("traces", "logs"):  # Claude Code exports spans and logs separately
        for bodies in calls:
            send(live_server, "pb", signal, bodies[signal])
    [row] = spend_json(live_server.db, "user")
    assert (row["calls"], row["cost_usd"]) == (2, "0.042000")
    assert rollup_totals(live_server) == (2, 42_000_000)


def _gateway_facts(live: LiveServer, end_ns: int) -> CallFacts:
    """What the gateway saw of the fixture's call (same person, tokens; its own clock)."""
    key = KeyAuthenticator(live.running.engine).authenticate(live.key)
    usage = Usage(1200, 5000, 800, 0, 300, response_model="claude-opus-4-8", complete=True)
    return CallFacts(
        key=key,
        provider="anthropic",
        operation="chat",
        request_model="claude-opus-4-8",
        usage=usage,
        trace=Trace.from_header(None),
        start_ns=end_ns - 900 * MS,
        end_ns=end_ns,
        upstream_start_ns=end_ns - 890 * MS,
        upstream_end_ns=end_ns - 2 * MS,
        upstream_url="https://api.anthropic.com/v1/messages",
        status=200,
        user_agent="claude-cli/2.1.197 (external, cli)",
    )


def _log_time_ns() -> int:
    doc: dict[str, Any] = json.loads((CLAUDE / "logs.otlp.json").read_bytes())
    records = doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
    return next(int(r["timeUnixNano"]) for r in records if r["body"]["stringValue"] == API_REQUEST)


@pytest.mark.parametrize("gateway_first", [True, False])
def test_gateway_and_client_log_are_one_call(live_server: LiveServer, gateway_first: bool) -> None:
    recorder = CallRecorder(live_server.running.pipeline, live_server.running.writer)
    facts = _gateway_facts(live_server, _log_time_ns() - 40 * MS)
    logs = (CLAUDE / "logs.otlp.json").read_bytes()
    if gateway_first:
        asyncio.run(recorder.record(facts))
    send(live_server, "json", "logs", logs)
    if not gateway_first:
        asyncio.run(recorder.record(facts))
    send(live_server, "json", "logs", logs)  # an exporter retry
    [row] = spend_json(live_server.db, "user")
    assert (row["calls"], row["cost_usd"]) == (1, "0.021000")
    assert rollup_totals(live_server) == (1, 21_000_000)
    [agent] = spend_json(live_server.db, "agent")
    assert agent["agent"] == "claude-code"
    first, second = ("gateway", "claude_code")[:: 1 if gateway_first else -1]
    assert [(d, b) for d, _, b, _ in call_rows(live_server)] == [(first, True), (second, False)]
