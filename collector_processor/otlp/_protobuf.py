"""OTLP protobuf → plain records; the only module that touches generated protobuf classes.

Hot path: fields are read directly (no MessageToDict) and AnyValue is resolved with
WhichOneof.  The remaining cost, ~1 us per attribute, is upb creating a Python object for
each KeyValue and AnyValue; see bench/decode.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from google.protobuf.message import DecodeError as ProtobufDecodeError
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as PbLogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector_processor.errors import DecodeError
from collector_processor.otlp._common import body_hint, log_event_name, log_time_ns
from semconv.records import (
    TEMPORALITY_UNSPECIFIED,
    Attributes,
    LogRecord,
    MetricPoint,
    SpanEvent,
    SpanRecord,
)

_M = TypeVar("_M", bound=Message)
_TRACE_ID_BYTES, _SPAN_ID_BYTES = 16, 8
_ZERO_IDS = {_TRACE_ID_BYTES: bytes(_TRACE_ID_BYTES), _SPAN_ID_BYTES: bytes(_SPAN_ID_BYTES)}


class _BadId(Exception):
    """An id field of the wrong length; the caller prefixes the record's path."""


def parse(message_type: type[_M], body: bytes, signal: str) -> _M:
    """Parse `body` as `message_type`, turning every failure into a DecodeError."""
    request = message_type()
    name = message_type.DESCRIPTOR.name
    try:
        request.ParseFromString(body)
    except (ProtobufDecodeError, ValueError, RuntimeError) as exc:
        raise DecodeError(
            f"{signal} body is not a valid {name} protobuf: {exc or type(exc).__name__}"
            f" ({len(body)} bytes){body_hint(body)}"
        ) from None
    if body and not request.ListFields():
        # Bytes that parse only as unknown fields are garbage or another message type.
        raise DecodeError(
            f"{signal} body is not a valid {name} protobuf: no {name} fields found"
            f" in {len(body)} bytes{body_hint(body)}"
        )
    return request


def any_value(value: AnyValue) -> Any:
    """Convert an AnyValue to a plain Python value (bytes as lowercase hex; unset as None)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bool_value":
        return value.bool_value
    if which == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value.hex()
    return None


def attributes(pairs: Iterable[KeyValue]) -> Attributes:
    """Convert repeated KeyValue to a dict; a repeated key keeps its last value."""
    result: Attributes = {}
    for pair in pairs:
        value = pair.value
        # Most GenAI attributes are strings.  In a oneof, a non-empty string_value can only
        # mean the string case, so it is read without WhichOneof (~10% of the hot path).
        text = value.string_value
        if text:
            result[pair.key] = text
        elif value.WhichOneof("value") == "int_value":
            result[pair.key] = value.int_value
        else:
            result[pair.key] = any_value(value)
    return result


def _hex_id(raw: bytes, size: int, field: str, required: bool) -> str:
    """Render an id as lowercase hex; "" when all zero, or when empty and optional."""
    if len(raw) == size:
        return "" if raw == _ZERO_IDS[size] else raw.hex()
    if not raw and not required:
        return ""
    raise _BadId(f"{field}: expected {size} bytes, got {len(raw)}")


def decode_traces(body: bytes) -> list[SpanRecord]:
    """Decode an ExportTraceServiceRequest body into span records."""
    request = parse(ExportTraceServiceRequest, body, "traces")
    records: list[SpanRecord] = []
    append = records.append
    for r_index, resource_spans in enumerate(request.resource_spans):
        resource = attributes(resource_spans.resource.attributes)
        for s_index, scope_spans in enumerate(resource_spans.scope_spans):
            scope = scope_spans.scope.name
            for index, span in enumerate(scope_spans.spans):
                try:
                    append(_span(span, resource, scope))
                except _BadId as exc:
                    path = f"resource_spans[{r_index}].scope_spans[{s_index}].spans[{index}]"
                    raise DecodeError(f"{path}.{exc}") from None
    return records


def _span(span: Span, resource: Attributes, scope: str) -> SpanRecord:
    """Convert one Span; `resource` is shared, not copied."""
    status = span.status
    events = span.events
    return SpanRecord(
        trace_id=_hex_id(span.trace_id, _TRACE_ID_BYTES, "trace_id", True),
        span_id=_hex_id(span.span_id, _SPAN_ID_BYTES, "span_id", True),
        parent_span_id=_hex_id(span.parent_span_id, _SPAN_ID_BYTES, "parent_span_id", False),
        name=span.name,
        kind=span.kind,
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        attributes=attributes(span.attributes),
        resource=resource,
        scope_name=scope,
        status_code=status.code,
        status_message=status.message,
        events=tuple(
            SpanEvent(name=e.name, time_ns=e.time_unix_nano, attributes=attributes(e.attributes))
            for e in events
        )
        if events
        else (),
    )


def decode_logs(body: bytes) -> list[LogRecord]:
    """Decode an ExportLogsServiceRequest body into log records."""
    request = parse(ExportLogsServiceRequest, body, "logs")
    records: list[LogRecord] = []
    for r_index, resource_logs in enumerate(request.resource_logs):
        resource = attributes(resource_logs.resource.attributes)
        for s_index, scope_logs in enumerate(resource_logs.scope_logs):
            scope = scope_logs.scope.name
            for index, log in enumerate(scope_logs.log_records):
                try:
                    records.append(_log(log, resource, scope))
                except _BadId as exc:
                    path = f"resource_logs[{r_index}].scope_logs[{s_index}].log_records[{index}]"
                    raise DecodeError(f"{path}.{exc}") from None
    return records


def _log(log: PbLogRecord, resource: Attributes, scope: str) -> LogRecord:
    """Convert one LogRecord; `resource` is shared, not copied."""
    attrs = attributes(log.attributes)
    observed_ns = log.observed_time_unix_nano
    return LogRecord(
        time_ns=log_time_ns(log.time_unix_nano, observed_ns, attrs),
        observed_ns=observed_ns,
        trace_id=_hex_id(log.trace_id, _TRACE_ID_BYTES, "trace_id", False),
        span_id=_hex_id(log.span_id, _SPAN_ID_BYTES, "span_id", False),
        severity_number=log.severity_number,
        severity_text=log.severity_text,
        body=any_value(log.body) if log.HasField("body") else None,
        event_name=log_event_name(log.event_name, attrs),
        attributes=attrs,
        resource=resource,
        scope_name=scope,
    )


def decode_metrics(body: bytes) -> list[MetricPoint]:
    """Decode an ExportMetricsServiceRequest body into one MetricPoint per data point."""
    request = parse(ExportMetricsServiceRequest, body, "metrics")
    points: list[MetricPoint] = []
    for resource_metrics in request.resource_metrics:
        resource = attributes(resource_metrics.resource.attributes)
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope.name
            for metric in scope_metrics.metrics:
                points.extend(_metric_points(metric, resource, scope))
    return points


def _metric_points(metric: Metric, resource: Attributes, scope: str) -> list[MetricPoint]:
    """Flatten one Metric into points; histogram-like kinds carry their sum as the value."""
    kind = metric.WhichOneof("data")
    if kind is None:
        return []  # a metric with no data is valid OTLP and describes nothing
    data = getattr(metric, kind)
    temporality = getattr(data, "aggregation_temporality", TEMPORALITY_UNSPECIFIED)
    monotonic = kind == "sum" and data.is_monotonic
    points = []
    for point in data.data_points:
        if kind == "sum" or kind == "gauge":
            which = point.WhichOneof("value")
            value: int | float = getattr(point, which) if which else 0
        else:
            value = point.sum  # an unset optional sum reads as 0.0
        points.append(
            MetricPoint(
                name=metric.name,
                unit=metric.unit,
                kind=kind,
                temporality=temporality,
                monotonic=monotonic,
                start_ns=point.start_time_unix_nano,
                time_ns=point.time_unix_nano,
                value=value,
                attributes=attributes(point.attributes),
                resource=resource,
                scope_name=scope,
            )
        )
    return points
