"""OTLP/JSON bodies → plain records, via json.loads and a hand-written mapper.

protobuf's json_format is ~300x slower and rejects the hex ids OTLP/JSON requires, so the
document is walked directly.  Errors name the JSON path of the offending field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from collector_processor.errors import DecodeError
from collector_processor.otlp._common import body_hint, log_event_name, log_time_ns
from collector_processor.otlp._json_values import (
    Malformed,
    any_value,
    array,
    attributes,
    boolean,
    enum,
    get,
    hex_id,
    obj,
    read_double,
    read_int,
    show,
    string,
    uint64,
)
from semconv.records import (
    TEMPORALITY_UNSPECIFIED,
    Attributes,
    LogRecord,
    MetricPoint,
    SpanEvent,
    SpanRecord,
)

_TRACE_ID_BYTES, _SPAN_ID_BYTES = 16, 8
_SPAN_KINDS = dict(Span.SpanKind.items())
_STATUS_CODES = dict(Status.StatusCode.items())
_TEMPORALITIES = dict(AggregationTemporality.items())
_SEVERITIES = dict(SeverityNumber.items())
# (camelCase, snake_case, MetricPoint.kind) for each Metric data oneof, in proto order.
_METRIC_KINDS = (
    ("gauge", "gauge", "gauge"),
    ("sum", "sum", "sum"),
    ("histogram", "histogram", "histogram"),
    ("exponentialHistogram", "exponential_histogram", "exponential_histogram"),
    ("summary", "summary", "summary"),
)

# Appends the record(s) converted from one leaf object (span, log record, metric).
_Convert = Callable[[dict[str, Any], Attributes, str, list[Any]], None]


class _Layout(NamedTuple):
    """Field names of one signal's resource → scope → item nesting (camelCase, snake_case)."""

    resource: tuple[str, str]
    scope: tuple[str, str]
    items: tuple[str, str]


_TRACES = _Layout(
    ("resourceSpans", "resource_spans"), ("scopeSpans", "scope_spans"), ("spans", "spans")
)
_LOGS = _Layout(
    ("resourceLogs", "resource_logs"), ("scopeLogs", "scope_logs"), ("logRecords", "log_records")
)
_METRICS = _Layout(
    ("resourceMetrics", "resource_metrics"),
    ("scopeMetrics", "scope_metrics"),
    ("metrics", "metrics"),
)


def decode_traces(body: bytes) -> list[SpanRecord]:
    """Decode an OTLP/JSON ExportTraceServiceRequest into span records."""
    return _decode(body, "traces", _TRACES, _span)


def decode_logs(body: bytes) -> list[LogRecord]:
    """Decode an OTLP/JSON ExportLogsServiceRequest into log records."""
    return _decode(body, "logs", _LOGS, _log)


def decode_metrics(body: bytes) -> list[MetricPoint]:
    """Decode an OTLP/JSON ExportMetricsServiceRequest into one MetricPoint per data point."""
    return _decode(body, "metrics", _METRICS, _metric)


def _decode(body: bytes, signal: str, layout: _Layout, convert: _Convert) -> list[Any]:
    """Parse the body and walk resource → scope → item, converting every item."""
    if not body.strip():
        return []  # an empty body is an empty export request
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise DecodeError(f"{signal} body is not valid JSON: {exc}{body_hint(body)}") from None
    if type(document) is not dict:
        raise DecodeError(f"{signal} body must be a JSON object, got {type(document).__name__}")
    records: list[Any] = []
    try:
        _walk(document, layout, convert, records)
    except Malformed as exc:
        raise DecodeError(f"{exc.path}: {exc.problem}") from None
    except RecursionError:
        raise DecodeError(f"{signal} body nests values too deeply") from None
    return records


def _walk(document: dict[str, Any], layout: _Layout, convert: _Convert, out: list[Any]) -> None:
    """Convert every item below the document, locating any error by its JSON path."""
    (resources_key, _), (scopes_key, _), (items_key, _) = layout
    resources = array(document, *layout.resource)
    for r_index, resource_doc in enumerate(resources):
        try:
            resource_doc = obj(resource_doc)
            resource = _resource(resource_doc)
            for s_index, scope_doc in enumerate(array(resource_doc, *layout.scope)):
                try:
                    scope_doc = obj(scope_doc)
                    scope = _scope_name(scope_doc)
                    for index, item in enumerate(array(scope_doc, *layout.items)):
                        try:
                            convert(obj(item), resource, scope, out)
                        except Malformed as exc:
                            raise exc.under(f"{items_key}[{index}]") from None
                except Malformed as exc:
                    raise exc.under(f"{scopes_key}[{s_index}]") from None
        except Malformed as exc:
            raise exc.under(f"{resources_key}[{r_index}]") from None


def _resource(doc: dict[str, Any]) -> Attributes:
    """Read the resource attributes of one resource-level object."""
    resource = doc.get("resource")
    if resource is None:
        return {}
    try:
        return attributes(obj(resource).get("attributes"))
    except Malformed as exc:
        raise exc.under("resource") from None


def _scope_name(doc: dict[str, Any]) -> str:
    """Read the instrumentation scope name of one scope-level object."""
    scope = doc.get("scope")
    if scope is None:
        return ""
    try:
        return string(obj(scope), "name", "name")
    except Malformed as exc:
        raise exc.under("scope") from None


def _span(doc: dict[str, Any], resource: Attributes, scope: str, out: list[Any]) -> None:
    """Convert one span object."""
    status = doc.get("status")
    code, message = _status(status) if status is not None else (0, "")
    out.append(
        SpanRecord(
            trace_id=hex_id(doc, "traceId", "trace_id", _TRACE_ID_BYTES, True),
            span_id=hex_id(doc, "spanId", "span_id", _SPAN_ID_BYTES, True),
            parent_span_id=hex_id(doc, "parentSpanId", "parent_span_id", _SPAN_ID_BYTES, False),
            name=string(doc, "name", "name"),
            kind=enum(doc, "kind", "kind", _SPAN_KINDS),
            start_ns=uint64(doc, "startTimeUnixNano", "start_time_unix_nano"),
            end_ns=uint64(doc, "endTimeUnixNano", "end_time_unix_nano"),
            attributes=attributes(doc.get("attributes")),
            resource=resource,
            scope_name=scope,
            status_code=code,
            status_message=message,
            events=_events(doc.get("events")),
        )
    )


def _status(status: Any) -> tuple[int, str]:
    """Read a span status object as (code, message)."""
    try:
        status = obj(status)
        return enum(status, "code", "code", _STATUS_CODES), string(status, "message", "message")
    except Malformed as exc:
        raise exc.under("status") from None


def _events(events: Any) -> tuple[SpanEvent, ...]:
    """Read a span's events array."""
    if not events:
        return ()
    if type(events) is not list:
        raise Malformed("events", f"expected an array, got {show(events)}")
    converted = []
    for index, event in enumerate(events):
        try:
            event = obj(event)
            converted.append(
                SpanEvent(
                    name=string(event, "name", "name"),
                    time_ns=uint64(event, "timeUnixNano", "time_unix_nano"),
                    attributes=attributes(event.get("attributes")),
                )
            )
        except Malformed as exc:
            raise exc.under(f"events[{index}]") from None
    return tuple(converted)


def _log(doc: dict[str, Any], resource: Attributes, scope: str, out: list[Any]) -> None:
    """Convert one log record object."""
    attrs = attributes(doc.get("attributes"))
    observed_ns = uint64(doc, "observedTimeUnixNano", "observed_time_unix_nano")
    try:
        body = any_value(doc.get("body"))
    except Malformed as exc:
        raise exc.under("body") from None
    out.append(
        LogRecord(
            time_ns=log_time_ns(uint64(doc, "timeUnixNano", "time_unix_nano"), observed_ns, attrs),
            observed_ns=observed_ns,
            trace_id=hex_id(doc, "traceId", "trace_id", _TRACE_ID_BYTES, False),
            span_id=hex_id(doc, "spanId", "span_id", _SPAN_ID_BYTES, False),
            severity_number=enum(doc, "severityNumber", "severity_number", _SEVERITIES),
            severity_text=string(doc, "severityText", "severity_text"),
            body=body,
            event_name=log_event_name(string(doc, "eventName", "event_name"), attrs),
            attributes=attrs,
            resource=resource,
            scope_name=scope,
        )
    )


def _metric(doc: dict[str, Any], resource: Attributes, scope: str, out: list[Any]) -> None:
    """Convert one metric object into one MetricPoint per data point."""
    found = _metric_data(doc)
    if found is None:
        return  # a metric with no data is valid OTLP and describes nothing
    camel, kind, data = found
    name, unit = string(doc, "name", "name"), string(doc, "unit", "unit")
    try:
        data = obj(data)
        temporality = TEMPORALITY_UNSPECIFIED
        if kind != "gauge" and kind != "summary":
            temporality = enum(
                data, "aggregationTemporality", "aggregation_temporality", _TEMPORALITIES
            )
        monotonic = kind == "sum" and boolean(data, "isMonotonic", "is_monotonic")
        for index, point in enumerate(array(data, "dataPoints", "data_points")):
            try:
                point = obj(point)
                out.append(
                    MetricPoint(
                        name=name,
                        unit=unit,
                        kind=kind,
                        temporality=temporality,
                        monotonic=monotonic,
                        start_ns=uint64(point, "startTimeUnixNano", "start_time_unix_nano"),
                        time_ns=uint64(point, "timeUnixNano", "time_unix_nano"),
                        value=_point_value(point, kind),
                        attributes=attributes(point.get("attributes")),
                        resource=resource,
                        scope_name=scope,
                    )
                )
            except Malformed as exc:
                raise exc.under(f"dataPoints[{index}]") from None
    except Malformed as exc:
        raise exc.under(camel) from None


def _metric_data(doc: dict[str, Any]) -> tuple[str, str, Any] | None:
    """Find the metric's data oneof as (JSON field name, MetricPoint.kind, data object)."""
    for camel, snake, kind in _METRIC_KINDS:
        data = get(doc, camel, snake)
        if data is not None:
            return camel, kind, data
    return None


def _point_value(point: dict[str, Any], kind: str) -> int | float:
    """Read asInt/asDouble of a number point, or the sum of a histogram-like point."""
    fields = (
        (("asInt", "as_int"), ("asDouble", "as_double"))
        if kind in ("sum", "gauge")
        else (("sum", "sum"),)
    )
    for camel, snake in fields:
        value = get(point, camel, snake)
        if value is not None:
            try:
                return read_int(value) if camel == "asInt" else read_double(value)
            except Malformed as exc:
                raise exc.under(camel) from None
    return 0 if kind in ("sum", "gauge") else 0.0
