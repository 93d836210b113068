"""OTLP/HTTP receiver: real SDK exporters, real client payloads, and every refusal."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import requests
from aiohttp import web
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    LogRecordExportResult,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from collector_processor import errors
from collector_processor.consumer import ExportOutcome
from collector_processor.otlp.decode import decode_logs, decode_metrics, decode_traces
from collector_processor.receiver.http import build_http_app
from collector_processor.testing import (
    LoopThread,
    RecordingConsumer,
    StaticAuthenticator,
    make_ingest_key,
)
from tests.fixture_paths import REAL_CLIENTS  # noqa: E402

FIXTURES = REAL_CLIENTS
KEY = make_ingest_key(7, org_id=3, workspace_id=5, user_id=11)
AUTH = StaticAuthenticator({"sk-test": KEY})
BEARER = {"Authorization": "Bearer sk-test"}
PB = {**BEARER, "Content-Type": "application/x-protobuf"}
LIMIT_BYTES = 256 * 1024  # above the largest fixture (codex traces, ~160 KiB)
DECODERS: dict[str, Callable[[bytes, str], list[Any]]] = {
    "traces": decode_traces,
    "logs": decode_logs,
    "metrics": decode_metrics,
}


class Receiver(NamedTuple):
    url: str
    consumer: RecordingConsumer


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    with LoopThread() as loop_thread:
        yield loop_thread


def _serve(loop_thread: LoopThread, app: web.Application, **server_kwargs: Any) -> web.AppRunner:
    """Start an app on 127.0.0.1 with a free port."""
    runner = web.AppRunner(app, **server_kwargs)
    loop_thread.run(runner.setup())
    loop_thread.run(web.TCPSite(runner, "127.0.0.1", 0).start())
    return runner


@pytest.fixture
def receiver(loop_thread: LoopThread) -> Iterator[Receiver]:
    consumer = RecordingConsumer()
    app = build_http_app(
        consumer, AUTH, max_body_bytes=LIMIT_BYTES, health=lambda: {"queue_depth": 0}
    )
    runner = _serve(loop_thread, app)
    host, port = runner.addresses[0][:2]
    yield Receiver(f"http://{host}:{port}", consumer)
    loop_thread.run(runner.cleanup())


def _genai_spans(count: int = 3) -> list[Any]:
    """Create GenAI client spans with the SDK and return them finished."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test-agent")
    for i in range(count):
        attributes: dict[str, str | int] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 1000 + i,
            "gen_ai.usage.output_tokens": 50,
        }
        with tracer.start_as_current_span("chat gpt-4o", attributes=attributes):
            pass
    return list(memory.get_finished_spans())


def _status(response: requests.Response) -> status_pb2.Status:
    """Parse a protobuf google.rpc.Status error body."""
    assert response.headers["Content-Type"] == "application/x-protobuf"
    return status_pb2.Status.FromString(response.content)


def _good_post(session: requests.Session, receiver: Receiver) -> None:
    """Assert the receiver still accepts a valid export."""
    body = (FIXTURES / "claude-code-2.1.197/traces.otlp.pb").read_bytes()
    response = session.post(f"{receiver.url}/v1/traces", data=body, headers=PB)
    assert response.status_code == 200


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_sdk_span_exporter_delivers_genai_spans(
    receiver: Receiver, compression: Compression
) -> None:
    exporter = OTLPSpanExporter(
        endpoint=f"{receiver.url}/v1/traces",
        headers={"authorization": "Bearer sk-test"},
        compression=compression,
    )
    assert exporter.export(_genai_spans(3)) is SpanExportResult.SUCCESS
    spans = receiver.consumer.spans
    assert [s.attributes["gen_ai.usage.input_tokens"] for s in spans] == [1000, 1001, 1002]
    assert {s.attributes["gen_ai.request.model"] for s in spans} == {"gpt-4o"}
    assert {s.name for s in spans} == {"chat gpt-4o"}
    assert [b.key for b in receiver.consumer.batches] == [KEY]


def test_sdk_log_exporter_delivers_events(receiver: Receiver) -> None:
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    logger = provider.get_logger("test-agent")
    logger.emit(event_name="gen_ai.client.inference", body="hi", attributes={"tokens": 42})
    exporter = OTLPLogExporter(
        endpoint=f"{receiver.url}/v1/logs", headers={"authorization": "Bearer sk-test"}
    )
    assert exporter.export(memory.get_finished_logs()) is LogRecordExportResult.SUCCESS
    (log,) = receiver.consumer.logs
    assert (log.event_name, log.body, log.attributes["tokens"]) == (
        "gen_ai.client.inference",
        "hi",
        42,
    )


def test_sdk_metric_exporter_delivers_points(receiver: Receiver) -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test-agent")
    meter.create_counter("gen_ai.client.token.usage").add(120, {"gen_ai.token.type": "input"})
    exporter = OTLPMetricExporter(
        endpoint=f"{receiver.url}/v1/metrics", headers={"authorization": "Bearer sk-test"}
    )
    metrics_data = reader.get_metrics_data()
    assert metrics_data is not None
    assert exporter.export(metrics_data) is MetricExportResult.SUCCESS
    (point,) = receiver.consumer.points
    assert (point.name, point.value, point.attributes) == (
        "gen_ai.client.token.usage",
        120,
        {"gen_ai.token.type": "input"},
    )


FIXTURE_FILES = sorted(FIXTURES.glob("*/*.otlp.*"))


@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_real_client_payloads_are_accepted(receiver: Receiver, path: Path, gzipped: bool) -> None:
    signal = path.name.split(".")[0]
    encoding = "json" if path.suffix == ".json" else "protobuf"
    content_type = "application/json" if encoding == "json" else "application/x-protobuf"
    body = path.read_bytes()
    headers = {**BEARER, "Content-Type": content_type}
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    data = gzip.compress(body) if gzipped else body
    response = requests.post(f"{receiver.url}/v1/{signal}", data=data, headers=headers)
    assert response.status_code == 200, response.content
    assert response.headers["Content-Type"] == content_type
    records = [r for b in receiver.consumer.batches if b.signal == signal for r in b.records]
    assert len(records) == len(DECODERS[signal](body, encoding)) > 0
    assert {b.key for b in receiver.consumer.batches} == {KEY}


def test_json_charset_parameter_is_ignored(receiver: Receiver) -> None:
    body = (FIXTURES / "claude-code-2.1.197/traces.otlp.json").read_bytes()
    headers = {**BEARER, "Content-Type": "Application/JSON; charset=utf-8"}
    response = requests.post(f"{receiver.url}/v1/traces", data=body, headers=headers)
    assert response.status_code == 200
    assert response.json() == {}
    assert len(receiver.consumer.spans) > 0


def test_empty_export_succeeds_without_waking_the_consumer(receiver: Receiver) -> None:
    response = requests.post(f"{receiver.url}/v1/traces", data=b"", headers=PB)
    assert response.status_code == 200
    assert receiver.consumer.batches == []


def test_partial_rejection_protobuf(receiver: Receiver) -> None:
    receiver.consumer.outcome = ExportOutcome(rejected=2, message="2 spans had no model")
    body = (FIXTURES / "claude-code-2.1.197/traces.otlp.pb").read_bytes()
    response = requests.post(f"{receiver.url}/v1/traces", data=body, headers=PB)
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert (partial.rejected_spans, partial.error_message) == (2, "2 spans had no model")


def test_partial_rejection_json(receiver: Receiver) -> None:
    receiver.consumer.outcome = ExportOutcome(rejected=1, message="1 log had no timestamp")
    body = (FIXTURES / "claude-code-2.1.197/logs.otlp.json").read_bytes()
    headers = {**BEARER, "Content-Type": "application/json"}
    response = requests.post(f"{receiver.url}/v1/logs", data=body, headers=headers)
    assert response.status_code == 200
    partial = response.json()["partialSuccess"]
    assert int(partial["rejectedLogRecords"]) == 1
    assert partial["errorMessage"] == "1 log had no timestamp"


def test_sdk_exporter_treats_partial_success_as_success(receiver: Receiver) -> None:
    receiver.consumer.outcome = ExportOutcome(rejected=1, message="one refused")
    exporter = OTLPSpanExporter(
        endpoint=f"{receiver.url}/v1/traces", headers={"authorization": "Bearer sk-test"}
    )
    assert exporter.export(_genai_spans(2)) is SpanExportResult.SUCCESS


# ~64 KiB of gzip that inflates to 64 MiB: well under the limit on the wire, far over it inflated.
BOMB = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)


def _chunks(data: bytes) -> Iterator[bytes]:
    """Yield data in pieces so requests sends it chunked (no Content-Length)."""
    for start in range(0, len(data), 16 * 1024):
        yield data[start : start + 16 * 1024]


TRACES_PB = (FIXTURES / "claude-code-2.1.197/traces.otlp.pb").read_bytes()
GZIP = {**PB, "Content-Encoding": "gzip"}
# (id, headers, body, status, words the error message must contain)
BAD_REQUESTS: list[tuple[str, dict[str, str], Any, int, str]] = [
    ("garbage", PB, b"\xff\xfe not protobuf at all", 400, "protobuf"),
    ("truncated", PB, TRACES_PB[: len(TRACES_PB) // 2], 400, "protobuf"),
    ("corrupt-gzip", GZIP, b"not gzip data", 400, "gzip"),
    ("text/plain", {**BEARER, "Content-Type": "text/plain"}, TRACES_PB, 415, "Content-Type"),
    ("no-content-type", BEARER, TRACES_PB, 415, "Content-Type"),
    ("snappy", {**PB, "Content-Encoding": "snappy"}, TRACES_PB, 415, "Content-Encoding"),
    ("content-length", PB, b"\0" * (LIMIT_BYTES + 1), 413, "limit"),
    ("chunked", PB, lambda: _chunks(b"\0" * (LIMIT_BYTES * 2)), 413, "limit"),
    ("gzip-bomb", GZIP, BOMB, 413, "limit"),
    ("no-key", {"Content-Type": "application/x-protobuf"}, TRACES_PB, 401, "key"),
    ("wrong-key", {**PB, "Authorization": "Bearer sk-nope"}, TRACES_PB, 401, "key"),
    ("not-bearer", {**PB, "Authorization": "Basic c2stdGVzdA=="}, TRACES_PB, 401, "Bearer"),
]


@pytest.mark.parametrize(
    "headers,body,status,words", [r[1:] for r in BAD_REQUESTS], ids=[r[0] for r in BAD_REQUESTS]
)
def test_bad_request_is_refused_and_server_keeps_serving(
    receiver: Receiver, headers: dict[str, str], body: Any, status: int, words: str
) -> None:
    with requests.Session() as session:
        data = body() if callable(body) else body
        response = session.post(f"{receiver.url}/v1/traces", data=data, headers=headers)
        assert response.status_code == status
        assert words in _status(response).message
        assert receiver.consumer.batches == []
        _good_post(session, receiver)
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_gzip_bomb_is_refused_without_auto_decompress(loop_thread: LoopThread) -> None:
    consumer = RecordingConsumer()
    app = build_http_app(consumer, AUTH, max_body_bytes=LIMIT_BYTES)
    runner = _serve(loop_thread, app, auto_decompress=False)
    host, port = runner.addresses[0][:2]
    try:
        url = f"http://{host}:{port}/v1/traces"
        assert requests.post(url, data=BOMB, headers=GZIP).status_code == 413
        truncated = gzip.compress(TRACES_PB)[:-12]
        assert requests.post(url, data=truncated, headers=GZIP).status_code == 400
        response = requests.post(url, data=gzip.compress(TRACES_PB), headers=GZIP)
        assert response.status_code == 200
        assert len(consumer.spans) == len(decode_traces(TRACES_PB, "protobuf"))
    finally:
        loop_thread.run(runner.cleanup())


def test_json_request_gets_json_error(receiver: Receiver) -> None:
    headers = {**BEARER, "Content-Type": "application/json"}
    response = requests.post(f"{receiver.url}/v1/logs", data=b"{not json", headers=headers)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == 3  # INVALID_ARGUMENT
    assert "JSON" in response.json()["message"]


@pytest.mark.parametrize(
    "error,status,retry_after",
    [
        (errors.Overloaded("write queue full", 3), 429, 3),
        (errors.Unavailable("store down"), 503, 1),
    ],
)
def test_retryable_consumer_error_carries_retry_after(
    receiver: Receiver, error: errors.IngestError, status: int, retry_after: int
) -> None:
    receiver.consumer.error = error
    response = requests.post(f"{receiver.url}/v1/traces", data=TRACES_PB, headers=PB)
    assert response.status_code == status
    assert response.headers["Retry-After"] == str(retry_after)
    rpc_status = _status(response)
    assert rpc_status.message == str(error)
    (detail,) = rpc_status.details
    retry_info = error_details_pb2.RetryInfo()
    assert detail.Unpack(retry_info)
    assert retry_info.retry_delay.seconds == retry_after
    receiver.consumer.error = None
    _good_post(requests.Session(), receiver)


def test_unexpected_consumer_error_is_a_generic_500(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.consumer.error = RuntimeError("secret connection string")
    response = requests.post(f"{receiver.url}/v1/traces", data=TRACES_PB, headers=PB)
    assert response.status_code == 500
    assert "secret" not in _status(response).message
    assert "secret connection string" in caplog.text  # logged with its traceback
    receiver.consumer.error = None
    _good_post(requests.Session(), receiver)


def test_health(receiver: Receiver) -> None:
    response = requests.get(f"{receiver.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "queue_depth": 0}


def test_unknown_path_and_method(receiver: Receiver) -> None:
    assert requests.post(f"{receiver.url}/v1/profiles", data=b"", headers=PB).status_code == 404
    assert requests.get(f"{receiver.url}/v1/traces").status_code == 405


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        build_http_app(RecordingConsumer(), AUTH, max_body_bytes=0)


def test_json_error_body_is_a_google_rpc_status(receiver: Receiver) -> None:
    receiver.consumer.error = errors.Overloaded("full", 2)
    headers = {**BEARER, "Content-Type": "application/json"}
    body = (FIXTURES / "claude-code-2.1.197/traces.otlp.json").read_bytes()
    response = requests.post(f"{receiver.url}/v1/traces", data=body, headers=headers)
    assert json.loads(response.content) == {
        "code": 8,
        "message": "full",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}],
    }
