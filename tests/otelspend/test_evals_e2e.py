"""Evaluation tags end to end: OTLP span events and logs, POST /v1/evaluations, the CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from click.testing import CliRunner
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otelspend.cli import main
from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import post, spend_json

PB = "application/x-protobuf"
T0 = 1_795_391_329_000_000_000  # 2026-11-22T23:48:49Z
WINDOW = ["--since", "2026-11-01", "--until", "2026-12-01", "--org", "acme"]
FAILING = "f" * 32  # trace whose chat span carries a failing evaluation event
LATE = "e" * 32  # trace whose span arrives after its (response-id) evaluation


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def _chat(trace: str, span: str, response_id: str, *events: Span.Event) -> Span:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.id": response_id,
        "gen_ai.agent.name": "coder",
        "gen_ai.usage.input_tokens": 12_000,
        "gen_ai.usage.output_tokens": 800,
    }
    return Span(
        trace_id=bytes.fromhex(trace),
        span_id=bytes.fromhex(span),
        name="chat claude-sonnet-4-5",
        kind=Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=T0,
        end_time_unix_nano=T0 + 2_000_000_000,
        attributes=[_kv(k, v) for k, v in attrs.items()],
        events=list(events),
    )


def _evaluation_event(name: str, label: str, score: float, explanation: str) -> Span.Event:
    attrs = {
        "gen_ai.evaluation.name": name,
        "gen_ai.evaluation.score.label": label,
        "gen_ai.evaluation.score.value": score,
        "gen_ai.evaluation.explanation": explanation,
    }
    return Span.Event(
        name="gen_ai.evaluation.result",
        time_unix_nano=T0 + 3_000_000_000,
        attributes=[_kv(k, v) for k, v in attrs.items()],
    )


def _traces(*spans: Span) -> bytes:
    rs = ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])
    rs.resource.attributes.append(_kv("service.name", "agent-x"))
    return ExportTraceServiceRequest(resource_spans=[rs]).SerializeToString()


def _cli(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--json" in args else result.output


def _post_evaluations(server: LiveServer, body: Any, key: str | None) -> tuple[int, Any]:
    req = urllib.request.Request(
        f"{server.http_endpoint}/v1/evaluations", data=json.dumps(body).encode(), method="POST"
    )
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_span_events_logs_and_the_evaluations_api(live_server: LiveServer) -> None:
    ep, key, db = live_server.http_endpoint, live_server.key, live_server.db
    # 1. A failing evaluation recorded as an event on the evaluated chat span, among 150
    #    unevaluated spans: the body (> 32 KiB) is decoded in a worker process.
    failing = _chat(
        FAILING,
        "1" * 16,
        "msg_fail",
        _evaluation_event("correctness", "fail", 0.2, "edited the wrong file"),
    )
    others = [_chat(f"{n:032x}", f"{n + 1:016x}", f"msg_{n}") for n in range(1, 151)]
    body = _traces(failing, *others)
    assert len(body) > 32 * 1024
    status, _ = post(ep, "traces", body, key=key, content_type=PB)
    assert status == 200
    # 2. An evaluator job tags by response id before the span exists, and one trace by id.
    status, answer = _post_evaluations(
        live_server,
        {"evaluations": [
            {"response_id": "msg_late", "name": "correctness", "label": "pass", "score": 1},
            {"trace_id": f"{1:032x}", "name": "correctness", "label": "pass"},
            {"name": "correctness", "label": "pass"},
        ]},
        key,
    )  # fmt: skip
    assert status == 200 and (answer["accepted"], answer["rejected"]) == (2, 1)
    assert _post_evaluations(live_server, [], None)[0] == 401
    assert _cli("eval", "show", "--db", db, "--trace", LATE, "--org", "acme", "--json") == []
    # 3. The late span lands: the response-id tag joins it.
    status, _ = post(
        ep, "traces", _traces(_chat(LATE, "2" * 16, "msg_late")), key=key, content_type=PB
    )
    assert status == 200
    (late,) = _cli("eval", "show", "--db", db, "--trace", LATE, "--json")
    assert (late["span_id"], late["label"], late["response_id"]) == ("2" * 16, "pass", "msg_late")
    # 4. A log-record evaluation parented to the failing span, from another evaluator.
    rec = LogRecord(
        time_unix_nano=T0 + 5_000_000_000,
        event_name="gen_ai.evaluation.result",
        trace_id=bytes.fromhex(FAILING),
        span_id=bytes.fromhex("1" * 16),
        attributes=[
            _kv("gen_ai.evaluation.name", "helpfulness"),
            _kv("gen_ai.evaluation.score.value", 0.4),
        ],
    )
    rl = ResourceLogs(scope_logs=[ScopeLogs(log_records=[rec])])
    rl.resource.attributes.append(_kv("service.name", "judge"))
    logs = ExportLogsServiceRequest(resource_logs=[rl]).SerializeToString()
    assert post(ep, "logs", logs, key=key, content_type=PB)[0] == 200
    tags = _cli("eval", "show", "--db", db, "--trace", FAILING, "--json")
    assert sorted((t["name"], t["source"]) for t in tags) == [
        ("correctness", "otlp:agent-x"),
        ("helpfulness", "otlp:judge"),
    ]
    # 5. What failing and passing work cost.
    total = sum(int(r["cost_nanousd"]) for r in spend_json(db, "org", "2026-11-01"))
    per_call = total // 152
    spend = _cli("eval", "spend", "--db", db, "--name", "correctness", "--json", *WINDOW)
    by = {r["outcome"]: (r["traces"], r["cost_nanousd"]) for r in spend}
    assert by == {
        "pass": (2, 2 * per_call),
        "fail": (1, per_call),
        "unevaluated": (149, 149 * per_call),
    }
    assert sum(r["cost_nanousd"] for r in spend) == total
    (worst,) = _cli("eval", "traces", "--db", db, "--name", "correctness", "--json", *WINDOW)
    assert (worst["trace_id"], worst["explanation"], worst["agents"]) == (
        FAILING,
        "edited the wrong file",
        ["coder"],
    )
    by_user = _cli(
        "eval",
        "spend",
        "--db",
        db,
        "--by",
        "user",
        "--outcome",
        "fail",
        "--name",
        "correctness",
        "--json",
        *WINDOW,
    )
    assert [(r["user"], r["cost_nanousd"]) for r in by_user] == [("alice", per_call)]
    # Without a name filter the latest evaluation decides: the score-only helpfulness one.
    latest = _cli(
        "eval",
        "spend",
        "--db",
        db,
        "--pass-threshold",
        "0.5",
        "--outcome",
        "fail",
        "--json",
        *WINDOW,
    )
    assert [(r["outcome"], r["traces"]) for r in latest] == [("fail", 1)]
    # 6. Re-sending everything adds no tag.
    post(ep, "traces", body, key=key, content_type=PB)
    post(ep, "logs", logs, key=key, content_type=PB)
    assert len(_cli("eval", "show", "--db", db, "--trace", FAILING, "--json")) == 2


def test_eval_tag_cli(live_server: LiveServer) -> None:
    db = live_server.db
    trace = "a" * 32
    out = _cli(
        "eval",
        "tag",
        "--db",
        db,
        "--trace",
        trace,
        "--name",
        "review",
        "--label",
        "fail",
        "--org",
        "acme",
    )
    assert f"tagged trace {trace}: review = fail" in out
    _cli(
        "eval",
        "tag",
        "--db",
        db,
        "--trace",
        trace,
        "--name",
        "review",
        "--label",
        "pass",
        "--score",
        "0.9",
        "--org",
        "acme",
    )
    (tag,) = _cli("eval", "show", "--db", db, "--trace", trace, "--org", "acme", "--json")
    assert (tag["label"], tag["score"], tag["source"].startswith("cli:")) == ("pass", 0.9, True)
    bad = CliRunner().invoke(
        main, ["eval", "tag", "--db", db, "--trace", "xyz", "--name", "r", "--label", "x"]
    )
    assert bad.exit_code != 0 and "32 hex" in bad.output
    neither = CliRunner().invoke(main, ["eval", "tag", "--db", db, "--trace", trace, "--name", "r"])
    assert neither.exit_code != 0 and "--score or --label" in neither.output


def test_a_bad_evaluation_event_is_reported_but_its_span_is_stored(
    live_sqlite_server: LiveServer,
) -> None:
    server = live_sqlite_server
    nameless = Span.Event(
        name="gen_ai.evaluation.result",
        time_unix_nano=T0,
        attributes=[_kv("gen_ai.evaluation.score.label", "fail")],
    )
    body = _traces(_chat("d" * 32, "4" * 16, "msg_d", nameless))
    status, raw = post(server.http_endpoint, "traces", body, key=server.key, content_type=PB)
    answer = ExportTraceServiceResponse.FromString(raw)
    assert status == 200 and answer.partial_success.rejected_spans == 0
    assert "ignored 1 evaluation event(s): span #0" in answer.partial_success.error_message
    assert sum(r["calls"] for r in spend_json(server.db, "org", "2026-11-01")) == 1
    assert _cli("eval", "show", "--db", server.db, "--trace", "d" * 32, "--json") == []
    # A log record that is an unusable evaluation counts as rejected.
    bad = LogRecord(time_unix_nano=T0, event_name="gen_ai.evaluation.result")
    rl = ResourceLogs(scope_logs=[ScopeLogs(log_records=[bad])])
    logs = ExportLogsServiceRequest(resource_logs=[rl]).SerializeToString()
    status, raw = post(server.http_endpoint, "logs", logs, key=server.key, content_type=PB)
    rejected = ExportLogsServiceResponse.FromString(raw).partial_success
    assert status == 200 and rejected.rejected_log_records == 1
    assert "gen_ai.evaluation.name is required" in rejected.error_message
