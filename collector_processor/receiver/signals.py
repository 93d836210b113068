"""What both OTLP receivers share: the three signals, bearer tokens, and one export request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from collector_processor import errors
from collector_processor.consumer import Consumer, EncodedConsumer, ExportOutcome, IngestKey
from collector_processor.otlp import decode

ENCODING_PROTOBUF = decode.ENCODING_PROTOBUF
ENCODING_JSON = decode.ENCODING_JSON

# Bodies up to this size decode on the event loop: a thread hop costs more than the decode.
# Larger ones (a 512-span batch is ~120 KiB and ~6 ms) go to a thread so the loop keeps
# accepting and answering other requests between the GIL's switch intervals.  Measured with
# 8 clients posting 512-span batches on 2 cores: same throughput (~130 batches/s) either
# way, but a concurrent GET /health answered in ~10 ms median instead of ~47 ms.
INLINE_DECODE_MAX_BYTES = 64 * 1024
# Decode holds the GIL, so more threads add no throughput; two keep the loop's share large.
_DECODE_THREADS = 2
_decode_pool = ThreadPoolExecutor(max_workers=_DECODE_THREADS, thread_name_prefix="otlp-decode")

Decoder = Callable[[bytes, str], list[Any]]
ConsumeCall = Callable[[Consumer, list[Any], IngestKey], Awaitable[ExportOutcome]]


class Signal(NamedTuple):
    """One OTLP signal: where it arrives, how it decodes, who consumes it, how it is answered."""

    name: str
    http_path: str
    grpc_service: str
    decode: Decoder
    consume: ConsumeCall
    response_type: type[Message]
    rejected_field: str  # the partial_success counter of this signal's response


def _consume_traces(
    consumer: Consumer, records: list[Any], key: IngestKey
) -> Awaitable[ExportOutcome]:
    """Hand a span batch to the consumer."""
    return consumer.consume_traces(records, key)


def _consume_logs(
    consumer: Consumer, records: list[Any], key: IngestKey
) -> Awaitable[ExportOutcome]:
    """Hand a log batch to the consumer."""
    return consumer.consume_logs(records, key)


def _consume_metrics(
    consumer: Consumer, records: list[Any], key: IngestKey
) -> Awaitable[ExportOutcome]:
    """Hand a metric-point batch to the consumer."""
    return consumer.consume_metrics(records, key)


TRACES = Signal(
    name="traces",
    http_path="/v1/traces",
    grpc_service="opentelemetry.proto.collector.trace.v1.TraceService",
    decode=decode.decode_traces,
    consume=_consume_traces,
    response_type=ExportTraceServiceResponse,
    rejected_field="rejected_spans",
)
LOGS = Signal(
    name="logs",
    http_path="/v1/logs",
    grpc_service="opentelemetry.proto.collector.logs.v1.LogsService",
    decode=decode.decode_logs,
    consume=_consume_logs,
    response_type=ExportLogsServiceResponse,
    rejected_field="rejected_log_records",
)
METRICS = Signal(
    name="metrics",
    http_path="/v1/metrics",
    grpc_service="opentelemetry.proto.collector.metrics.v1.MetricsService",
    decode=decode.decode_metrics,
    consume=_consume_metrics,
    response_type=ExportMetricsServiceResponse,
    rejected_field="rejected_data_points",
)
SIGNALS: tuple[Signal, ...] = (TRACES, LOGS, METRICS)


def bearer_token(authorization: str | None) -> str | None:
    """Return the key of an `Authorization: Bearer <key>` value (None when absent)."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.Unauthenticated("Authorization must be 'Bearer <ingest key>'")
    return token


async def export_request(
    signal: Signal, consumer: Consumer, key: IngestKey, body: bytes, encoding: str
) -> Message:
    """Decode one export request body, hand it to the consumer, and return the response."""
    if isinstance(consumer, EncodedConsumer):
        # The consumer decodes (in worker processes): the body crosses as bytes.
        return export_response(
            signal, await consumer.consume_encoded(signal.name, body, encoding, key)
        )
    if len(body) <= INLINE_DECODE_MAX_BYTES:
        records = signal.decode(body, encoding)
    else:
        loop = asyncio.get_running_loop()
        records = await loop.run_in_executor(_decode_pool, signal.decode, body, encoding)
    # Like the Collector: an export with nothing in it is answered without waking the pipeline.
    outcome = await signal.consume(consumer, records, key) if records else ExportOutcome()
    return export_response(signal, outcome)


def export_response(signal: Signal, outcome: ExportOutcome) -> Message:
    """Build the signal's Export*ServiceResponse, with partial_success when anything was refused."""
    response = signal.response_type()
    if outcome.rejected or outcome.message:
        partial = response.partial_success  # type: ignore[attr-defined]
        setattr(partial, signal.rejected_field, outcome.rejected)
        partial.error_message = outcome.message
    return response


def encode_message(message: Message, encoding: str) -> bytes:
    """Serialize a response message as protobuf bytes or OTLP/JSON."""
    if encoding == ENCODING_JSON:
        return json.dumps(MessageToDict(message)).encode()
    return message.SerializeToString()
