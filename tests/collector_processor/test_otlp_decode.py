"""The OTLP decode edge against real client captures, both encodings, and broken bodies."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector_processor.errors import DecodeError, InvalidInput
from collector_processor.otlp.decode import decode_logs, decode_metrics, decode_traces
from semconv.records import TEMPORALITY_DELTA, LogRecord, MetricPoint, SpanRecord
from tests.fixture_paths import REAL_CLIENTS  # noqa: E402

FIXTURES = REAL_CLIENTS
CLAUDE = FIXTURES / "claude-code-2.1.197"
CODEX = FIXTURES / "codex-0.169.0"

DECODERS: dict[str, Callable[[bytes, str], Sequence[Any]]] = {
    "traces": decode_traces,
    "logs": decode_logs,
    "metrics": decode_metrics,
}
REQUESTS: dict[str, type[Message]] = {
    "traces": ExportTraceServiceRequest,
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
}
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _map_ids(node: Any, convert: Any) -> Any:
    """Apply `convert` to every id field of a JSON-shaped document."""
    if isinstance(node, dict):
        return {
            k: convert(v) if k in _ID_KEYS and isinstance(v, str) else _map_ids(v, convert)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_map_ids(item, convert) for item in node]
    return node


def otlp_json(message: Message) -> bytes:
    """Encode as OTLP/JSON via json_format: hex ids, and 64-bit ints as decimal strings."""
    document = MessageToDict(message)
    return json.dumps(_map_ids(document, lambda v: base64.b64decode(v).hex())).encode()


def protobuf_from_otlp_json(body: bytes, signal: str) -> bytes:
    """Re-encode an OTLP/JSON body as protobuf (hex ids → the base64 json_format expects)."""
    document = _map_ids(json.loads(body), lambda v: base64.b64encode(bytes.fromhex(v)).decode())
    return ParseDict(document, REQUESTS[signal]()).SerializeToString()


def _shape(record: SpanRecord | LogRecord | MetricPoint) -> tuple[Any, ...]:
    """What two runs of one client must share: names and attribute keys and value types."""
    name = getattr(record, "name", None) or getattr(record, "event_name", "")
    kinds = sorted((k, type(v).__name__) for k, v in record.attributes.items())
    return name, tuple(kinds), tuple(sorted(record.resource)), record.scope_name


# --- Claude Code: the same decode from protobuf and OTLP/JSON --------------------------------


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_claude_code_protobuf_and_json_of_one_export_decode_equal(signal: str) -> None:
    decode = DECODERS[signal]
    pb_body = _read(CLAUDE / f"{signal}.otlp.pb")
    from_pb = decode(pb_body, "protobuf")
    from_json = decode(otlp_json(REQUESTS[signal].FromString(pb_body)), "json")
    assert from_pb and from_pb == from_json


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_claude_code_real_json_export_decodes_like_its_protobuf_form(signal: str) -> None:
    decode = DECODERS[signal]
    json_body = _read(CLAUDE / f"{signal}.otlp.json")
    from_json = decode(json_body, "json")
    assert from_json and from_json == decode(protobuf_from_otlp_json(json_body, signal), "protobuf")


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_claude_code_json_and_protobuf_captures_have_the_same_shape(signal: str) -> None:
    # The two captures are separate runs (ids and times differ) of the same command.
    decode = DECODERS[signal]
    from_pb = decode(_read(CLAUDE / f"{signal}.otlp.pb"), "protobuf")
    from_json = decode(_read(CLAUDE / f"{signal}.otlp.json"), "json")
    assert [_shape(r) for r in from_pb] == [_shape(r) for r in from_json]


def test_claude_code_llm_request_span_protobuf() -> None:
    spans = decode_traces(_read(CLAUDE / "traces.otlp.pb"), "protobuf")
    (llm,) = [s for s in spans if s.name == "claude_code.llm_request"]
    assert (llm.trace_id, llm.span_id, llm.parent_span_id) == (
        "2946baaccecf21330cd98036e44a6ed7",
        "43e4a67fa15088ad",
        "12fecd14c815251e",
    )
    assert llm.kind == 1
    assert (llm.start_ns, llm.end_ns) == (1795391325687000000, 1795391325712291013)
    attrs = llm.attributes
    assert attrs["input_tokens"] == 1200 and type(attrs["input_tokens"]) is int
    assert (attrs["output_tokens"], attrs["cache_read_tokens"]) == (300, 5000)
    assert attrs["cache_creation_tokens"] == 800
    assert attrs["gen_ai.request.model"] == "claude-opus-4-8[1m]"
    assert attrs["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert attrs["success"] is True
    assert llm.resource["service.name"] == "claude-code"
    assert llm.resource["team.id"] == "platform"
    assert llm.scope_name == "com.anthropic.claude_code.tracing"
    assert [(e.name, e.attributes) for e in llm.events] == [
        ("gen_ai.request.attempt", {"attempt": 1})
    ]
    assert llm.events[0].time_ns == 1795391325693757240


def test_claude_code_llm_request_span_json() -> None:
    spans = decode_traces(_read(CLAUDE / "traces.otlp.json"), "json")
    (llm,) = [s for s in spans if s.name == "claude_code.llm_request"]
    assert (llm.trace_id, llm.span_id, llm.parent_span_id) == (
        "0997b35206d9b39e6465af0a099ccd9b",
        "bf5254e3373f2ad2",
        "db1a8c201365cbde",
    )
    assert llm.start_ns == 1795391329306000000
    assert llm.attributes["input_tokens"] == 1200
    assert llm.resource["service.name"] == "claude-code"


def test_records_of_one_resource_share_one_resource_dict() -> None:
    spans = decode_traces(_read(CLAUDE / "traces.otlp.pb"), "protobuf")
    assert len(spans) == 2 and spans[0].resource is spans[1].resource
    points = decode_metrics(_read(CLAUDE / "metrics.otlp.json"), "json")
    assert len({id(p.resource) for p in points}) == 1


def test_claude_code_api_request_log() -> None:
    logs = decode_logs(_read(CLAUDE / "logs.otlp.pb"), "protobuf")
    assert [log.event_name for log in logs] == ["user_prompt", "api_request", "assistant_response"]
    api = logs[1]
    assert api.body == "claude_code.api_request"
    assert api.time_ns == api.observed_ns == 1795391325712000000
    assert api.attributes["cost_usd"] == pytest.approx(0.021)
    assert type(api.attributes["cost_usd"]) is float
    assert api.attributes["model"] == "claude-opus-4-8"
    assert api.attributes["input_tokens"] == 1200
    assert (api.trace_id, api.span_id) == ("2946baaccecf21330cd98036e44a6ed7", "12fecd14c815251e")


def test_claude_code_token_and_cost_metrics() -> None:
    points = decode_metrics(_read(CLAUDE / "metrics.otlp.pb"), "protobuf")
    tokens = {p.attributes["type"]: p.value for p in points if p.name == "claude_code.token.usage"}
    assert tokens == {"input": 1200, "output": 300, "cacheRead": 5000, "cacheCreation": 800}
    (cost,) = [p for p in points if p.name == "claude_code.cost.usage"]
    assert (cost.kind, cost.unit, cost.temporality, cost.monotonic) == (
        "sum",
        "USD",
        TEMPORALITY_DELTA,
        True,
    )
    assert cost.value == pytest.approx(0.021)
    assert cost.attributes["model"] == "claude-opus-4-8[1m]"
    assert (cost.start_ns, cost.time_ns) == (1795391325710000000, 1795391325717000000)


# --- Codex ----------------------------------------------------------------------------------


def test_codex_traces_have_one_turn_span_with_token_usage() -> None:
    spans = decode_traces(_read(CODEX / "traces.otlp.pb"), "protobuf")
    assert len(spans) == 417
    (turn,) = [s for s in spans if s.name == "session_task.turn"]
    assert turn.trace_id == "3153c299d40da5cbed78fa883f0c4d6e"
    assert (turn.span_id, turn.parent_span_id) == ("8290d01ff1677a37", "0872fd7720d932b7")
    assert turn.attributes["codex.turn.token_usage.input_tokens"] == 1200
    assert turn.attributes["codex.turn.token_usage.cached_input_tokens"] == 1000
    assert turn.attributes["codex.turn.token_usage.reasoning_output_tokens"] == 100
    assert turn.attributes["model"] == "gpt-5.1-codex"
    assert turn.resource["service.name"] == "codex_exec"
    assert [e.name for e in turn.events] == ["codex.turn_profile"]
    assert all(len(s.trace_id) == 32 and len(s.span_id) == 16 for s in spans)
    assert sum(1 for s in spans if s.parent_span_id == "") == 20


def test_codex_response_completed_log() -> None:
    logs = decode_logs(_read(CODEX / "logs.otlp.pb"), "protobuf")
    assert len(logs) == 13
    (done,) = [log for log in logs if "input_token_count" in log.attributes]
    assert done.attributes["event.kind"] == "response.completed"
    # Codex sends some counts as strings and some as ints; the edge keeps them as sent.
    assert done.attributes["input_token_count"] == "1200"
    assert done.attributes["cached_token_count"] == 1000
    assert done.attributes["reasoning_token_count"] == 100
    # Codex sets time_unix_nano to 0: the observed time stands in.
    assert done.time_ns == done.observed_ns == 1795391332802800804
    assert done.severity_number == 9 and done.severity_text == "INFO"
    assert done.body is None
    assert (done.trace_id, done.span_id) == ("", "")
    assert done.resource["service.name"] == "codex_exec"
    assert done.scope_name == "codex_otel.log_only"


def test_codex_log_event_name_follows_the_records_contract() -> None:
    # records.LogRecord: the event_name field wins over the `event.name` attribute; Codex
    # fills the field with a tracing call site, so consumers should read the attribute.
    logs = decode_logs(_read(CODEX / "logs.otlp.pb"), "protobuf")
    done = next(log for log in logs if "input_token_count" in log.attributes)
    assert done.event_name == "event otel/src/events/session_telemetry.rs:1153"
    assert done.attributes["event.name"] == "codex.sse_event"


# --- Empty and broken bodies -------------------------------------------------------------------


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_empty_body_is_an_empty_request(signal: str, encoding: str) -> None:
    assert DECODERS[signal](b"", encoding) == []


@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_empty_json_object_is_an_empty_request(signal: str) -> None:
    assert DECODERS[signal](b"{}", "json") == []


def test_unknown_encoding_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'xml'"):
        decode_traces(b"", "xml")


@pytest.mark.parametrize(
    "path", [CLAUDE / "traces.otlp.pb", CLAUDE / "logs.otlp.pb", CLAUDE / "metrics.otlp.pb"]
)
def test_protobuf_cut_in_half_is_a_decode_error(path: Path) -> None:
    body = _read(path)
    signal = path.name.split(".")[0]
    with pytest.raises(DecodeError, match=f"^{signal} body is not a valid Export"):
        DECODERS[signal](body[: len(body) // 2], "protobuf")


def test_protobuf_cut_anywhere_raises_only_decode_error() -> None:
    body = _read(CLAUDE / "traces.otlp.pb")
    failures = 0
    for cut in range(1, len(body)):
        try:
            decode_traces(body[:cut], "protobuf")
        except DecodeError:
            failures += 1
    # A cut exactly between two top-level fields is a shorter valid request; nearly all fail.
    assert failures >= len(body) - 5


@pytest.mark.parametrize(
    "garbage", [b"\xff\xff\xff\xff\xff", b"hello, this is not protobuf", bytes(range(256))]
)
def test_protobuf_garbage_is_a_decode_error(garbage: bytes) -> None:
    with pytest.raises(DecodeError, match="not a valid ExportTraceServiceRequest protobuf"):
        decode_traces(garbage, "protobuf")


def test_json_sent_as_protobuf_names_the_mistake() -> None:
    with pytest.raises(DecodeError, match="looks like JSON"):
        decode_traces(_read(CLAUDE / "traces.otlp.json"), "protobuf")


def test_gzip_sent_uncompressed_names_the_mistake() -> None:
    with pytest.raises(DecodeError, match="gzip"):
        decode_logs(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "json")


def test_decode_error_is_invalid_input() -> None:
    # Receivers map InvalidInput to HTTP 400 / INVALID_ARGUMENT.
    with pytest.raises(InvalidInput):
        decode_metrics(b"{not json", "json")


@pytest.mark.parametrize("body", [b"{not json", b'{"resourceSpans": [', b"\xff\xfe\x00"])
def test_invalid_json_is_a_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError, match="^traces body is not valid JSON: "):
        decode_traces(body, "json")


def test_json_that_is_not_an_object_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="must be a JSON object, got list"):
        decode_traces(b"[]", "json")


def test_protobuf_sent_as_json_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="not valid JSON"):
        decode_traces(_read(CLAUDE / "traces.otlp.pb"), "json")


def test_deeply_nested_json_is_a_decode_error() -> None:
    depth = 5000
    value = '{"arrayValue":{"values":[' * depth + '{"stringValue":"x"}' + "]}}" * depth
    attribute = f'{{"key":"deep","value":{value}}}'
    span = f'{{"traceId":"{"1" * 32}","spanId":"{"1" * 16}","attributes":[{attribute}]}}'
    body = f'{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{span}]}}]}}]}}'
    with pytest.raises(DecodeError):
        decode_traces(body.encode(), "json")


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
@pytest.mark.parametrize("signal", ["traces", "logs", "metrics"])
def test_corrupted_bodies_raise_only_decode_error(signal: str, encoding: str) -> None:
    suffix = "pb" if encoding == "protobuf" else "json"
    body = _read(CLAUDE / f"{signal}.otlp.{suffix}")
    rng = random.Random(f"{signal}-{encoding}")
    for _ in range(300):
        corrupted = bytearray(body)
        for _ in range(rng.randint(1, 4)):
            position = rng.randrange(len(corrupted))
            if rng.random() < 0.5:
                corrupted[position] = rng.randrange(256)
            else:
                del corrupted[position]
        try:
            records = DECODERS[signal](bytes(corrupted), encoding)
        except DecodeError:
            continue
        assert isinstance(records, list)


def test_bytes_holding_only_unknown_fields_are_rejected() -> None:
    with pytest.raises(DecodeError, match="no ExportTraceServiceRequest fields found in 2 bytes"):
        decode_traces(b"\x10\x01", "protobuf")
