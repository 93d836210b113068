"""OTLP/gRPC receiver: real SDK exporters, raw Export calls, and every refusal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
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
from collector_processor.receiver.grpc import start_grpc_server
from collector_processor.testing import (
    LoopThread,
    RecordingConsumer,
    StaticAuthenticator,
    make_ingest_key,
)
from tests.fixture_paths import REAL_CLIENTS  # noqa: E402

FIXTURES = REAL_CLIENTS
TRACES_PB = (FIXTURES / "claude-code-2.1.197/traces.otlp.pb").read_bytes()
KEY = make_ingest_key(9, org_id=2, workspace_id=4, user_id=None, trusted=True)
AUTH = StaticAuthenticator({"sk-grpc": KEY})
METADATA = (("authorization", "Bearer sk-grpc"),)
LIMIT_BYTES = 256 * 1024
SERVICES: dict[str, tuple[str, Any]] = {
    "traces": ("opentelemetry.proto.collector.trace.v1.TraceService", ExportTraceServiceResponse),
    "logs": ("opentelemetry.proto.collector.logs.v1.LogsService", ExportLogsServiceResponse),
    "metrics": (
        "opentelemetry.proto.collector.metrics.v1.MetricsService",
        ExportMetricsServiceResponse,
    ),
}
DECODERS: dict[str, Callable[[bytes, str], list[Any]]] = {
    "traces": decode_traces,
    "logs": decode_logs,
    "metrics": decode_metrics,
}


class Receiver(NamedTuple):
    target: str
    port: int
    consumer: RecordingConsumer
    channel: grpc.Channel

    def export(self, signal: str, body: bytes, metadata: Any = METADATA) -> Any:
        """Call <Service>/Export with raw bytes and parse the response."""
        service, response_type = SERVICES[signal]
        call = self.channel.unary_unary(f"/{service}/Export")
        return response_type.FromString(call(body, metadata=metadata, timeout=5))


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    with LoopThread() as loop_thread:
        yield loop_thread


@pytest.fixture
def receiver(loop_thread: LoopThread) -> Iterator[Receiver]:
    consumer = RecordingConsumer()
    server, port = loop_thread.run(
        start_grpc_server(consumer, AUTH, host="127.0.0.1", port=0, max_body_bytes=LIMIT_BYTES)
    )
    target = f"127.0.0.1:{port}"
    with grpc.insecure_channel(target) as channel:
        yield Receiver(target, port, consumer, channel)
    loop_thread.run(server.stop(None))


def _rpc_error(receiver: Receiver, body: bytes, metadata: Any = METADATA) -> grpc.RpcError:
    """Export raw trace bytes and return the error the call must fail with."""
    with pytest.raises(grpc.RpcError) as caught:
        receiver.export("traces", body, metadata)
    return caught.value


def _genai_spans() -> list[Any]:
    """Create two GenAI spans with the SDK and return them finished."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test-agent")
    for model in ("claude-sonnet-4-5", "claude-haiku-4-5"):
        attributes: dict[str, str | int] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": model,
            "gen_ai.usage.input_tokens": 2000,
            "gen_ai.usage.output_tokens": 80,
        }
        with tracer.start_as_current_span(f"chat {model}", attributes=attributes):
            pass
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("compression", [grpc.Compression.NoCompression, grpc.Compression.Gzip])
def test_sdk_span_exporter_delivers_genai_spans(
    receiver: Receiver, compression: grpc.Compression
) -> None:
    exporter = OTLPSpanExporter(
        endpoint=receiver.target,
        insecure=True,
        headers={"authorization": "Bearer sk-grpc"},
        compression=compression,
    )
    try:
        assert exporter.export(_genai_spans()) is SpanExportResult.SUCCESS
    finally:
        exporter.shutdown()
    spans = receiver.consumer.spans
    assert [s.attributes["gen_ai.request.model"] for s in spans] == [
        "claude-sonnet-4-5",
        "claude-haiku-4-5",
    ]
    assert {s.attributes["gen_ai.usage.input_tokens"] for s in spans} == {2000}
    assert [b.key for b in receiver.consumer.batches] == [KEY]


def test_sdk_log_and_metric_exporters(receiver: Receiver) -> None:
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    provider.get_logger("agent").emit(event_name="gen_ai.client.inference", body="done")
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("agent")
    meter.create_counter("gen_ai.client.token.usage").add(7)
    metrics_data = reader.get_metrics_data()
    assert metrics_data is not None
    options: dict[str, Any] = {"endpoint": receiver.target, "insecure": True}
    options["headers"] = {"authorization": "Bearer sk-grpc"}
    log_exporter, metric_exporter = OTLPLogExporter(**options), OTLPMetricExporter(**options)
    try:
        assert log_exporter.export(memory.get_finished_logs()) is LogRecordExportResult.SUCCESS
        assert metric_exporter.export(metrics_data) is MetricExportResult.SUCCESS
    finally:
        log_exporter.shutdown()
        metric_exporter.shutdown()
    assert [log.event_name for log in receiver.consumer.logs] == ["gen_ai.client.inference"]
    assert [(p.name, p.value) for p in receiver.consumer.points] == [
        ("gen_ai.client.token.usage", 7)
    ]


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("*/*.otlp.pb")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_real_client_payloads_are_accepted(receiver: Receiver, path: Path) -> None:
    signal = path.name.split(".")[0]
    body = path.read_bytes()
    response = receiver.export(signal, body)
    assert not response.HasField("partial_success")
    (batch,) = receiver.consumer.batches
    assert (batch.signal, batch.key) == (signal, KEY)
    assert len(batch.records) == len(DECODERS[signal](body, "protobuf")) > 0


def test_partial_rejection(receiver: Receiver) -> None:
    receiver.consumer.outcome = ExportOutcome(rejected=3, message="3 points had no value")
    body = (FIXTURES / "claude-code-2.1.197/metrics.otlp.pb").read_bytes()
    partial = receiver.export("metrics", body).partial_success
    assert (partial.rejected_data_points, partial.error_message) == (3, "3 points had no value")


# (id, body, metadata, code, words the status message must contain)
BAD_CALLS: list[tuple[str, bytes, Any, grpc.StatusCode, str]] = [
    ("garbage", b"\xff\xfe not protobuf", METADATA, grpc.StatusCode.INVALID_ARGUMENT, "protobuf"),
    ("truncated", TRACES_PB[:-40], METADATA, grpc.StatusCode.INVALID_ARGUMENT, "protobuf"),
    ("too-large", b"\0" * (LIMIT_BYTES + 1), METADATA, grpc.StatusCode.RESOURCE_EXHAUSTED, "max"),
    ("no-key", TRACES_PB, (), grpc.StatusCode.UNAUTHENTICATED, "key"),
    (
        "wrong-key",
        TRACES_PB,
        (("authorization", "Bearer x"),),
        grpc.StatusCode.UNAUTHENTICATED,
        "key",
    ),
    (
        "not-bearer",
        TRACES_PB,
        (("authorization", "sk-grpc"),),
        grpc.StatusCode.UNAUTHENTICATED,
        "Bearer",
    ),
]


@pytest.mark.parametrize(
    "body,metadata,code,words", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
def test_bad_call_is_refused_and_server_keeps_serving(
    receiver: Receiver, body: bytes, metadata: Any, code: grpc.StatusCode, words: str
) -> None:
    error = _rpc_error(receiver, body, metadata)
    assert error.code() == code
    assert words in error.details()
    assert receiver.consumer.batches == []
    receiver.export("traces", TRACES_PB)
    assert len(receiver.consumer.batches) == 1


def test_overloaded_is_resource_exhausted_with_retry_info(receiver: Receiver) -> None:
    receiver.consumer.error = errors.Overloaded("write queue full", retry_after_s=2)
    error = _rpc_error(receiver, TRACES_PB)
    assert (error.code(), error.details()) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "write queue full",
    )
    trailers = dict(error.trailing_metadata())
    assert trailers["grpc-retry-pushback-ms"] == "2000"
    retry_info = error_details_pb2.RetryInfo.FromString(trailers["google.rpc.retryinfo-bin"])
    assert retry_info.retry_delay.seconds == 2
    rpc_status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    assert (rpc_status.code, rpc_status.message) == (8, "write queue full")
    unpacked = error_details_pb2.RetryInfo()
    assert rpc_status.details[0].Unpack(unpacked) and unpacked.retry_delay.seconds == 2
    receiver.consumer.error = None
    receiver.export("traces", TRACES_PB)


def test_sdk_exporter_reports_failure_when_overloaded(receiver: Receiver) -> None:
    receiver.consumer.error = errors.Overloaded("write queue full", retry_after_s=5)
    # The exporter honours RetryInfo: a 5 s backoff past its 1 s deadline fails at once.
    exporter = OTLPSpanExporter(
        endpoint=receiver.target, insecure=True, headers=dict(METADATA), timeout=1
    )
    try:
        assert exporter.export(_genai_spans()) is SpanExportResult.FAILURE
    finally:
        exporter.shutdown()


def test_unavailable_and_unexpected_errors(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.consumer.error = errors.Unavailable("store is shutting down")
    assert _rpc_error(receiver, TRACES_PB).code() == grpc.StatusCode.UNAVAILABLE
    receiver.consumer.error = RuntimeError("secret dsn")
    error = _rpc_error(receiver, TRACES_PB)
    assert error.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in error.details()
    assert "secret dsn" in caplog.text
    receiver.consumer.error = None
    receiver.export("traces", TRACES_PB)


def test_port_in_use_is_an_error(loop_thread: LoopThread, receiver: Receiver) -> None:
    with pytest.raises(RuntimeError):
        loop_thread.run(
            start_grpc_server(RecordingConsumer(), AUTH, host="127.0.0.1", port=receiver.port)
        )


def test_limit_must_be_positive(loop_thread: LoopThread) -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        loop_thread.run(
            start_grpc_server(RecordingConsumer(), AUTH, host="127.0.0.1", port=0, max_body_bytes=0)
        )
