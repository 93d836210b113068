"""Record literals with realistic defaults for the semconv tests."""

from __future__ import annotations

from typing import Any

from semconv.records import TEMPORALITY_DELTA, LogRecord, MetricPoint, SpanRecord

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
START_NS = 1_795_391_325_687_000_000
END_NS = 1_795_391_325_712_291_013


def span(
    name: str = "chat gpt-4o",
    attrs: dict[str, Any] | None = None,
    *,
    resource: dict[str, Any] | None = None,
    span_id: str = "00f067aa0ba902b7",
    parent: str = "",
    trace_id: str = TRACE_ID,
    scope: str = "test.instrumentation",
    start_ns: int = START_NS,
    end_ns: int = END_NS,
) -> SpanRecord:
    """Return a span of the given name and attributes."""
    return SpanRecord(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        kind=3,
        start_ns=start_ns,
        end_ns=end_ns,
        attributes=attrs or {},
        resource=resource if resource is not None else {"service.name": "my-agent"},
        scope_name=scope,
    )


def log(
    attrs: dict[str, Any] | None = None,
    *,
    body: Any = None,
    event_name: str = "",
    resource: dict[str, Any] | None = None,
    time_ns: int = END_NS,
    trace_id: str = "",
    span_id: str = "",
    scope: str = "test.events",
) -> LogRecord:
    """Return a log record; event_name mirrors the decoder (field, else event.name attr)."""
    attrs = attrs or {}
    return LogRecord(
        time_ns=time_ns,
        observed_ns=time_ns,
        trace_id=trace_id,
        span_id=span_id,
        severity_number=9,
        severity_text="INFO",
        body=body,
        event_name=event_name or str(attrs.get("event.name", "")),
        attributes=attrs,
        resource=resource if resource is not None else {"service.name": "my-agent"},
        scope_name=scope,
    )


def point(
    name: str,
    value: int | float,
    attrs: dict[str, Any] | None = None,
    *,
    resource: dict[str, Any] | None = None,
    start_ns: int = START_NS,
    time_ns: int = END_NS,
    temporality: int = TEMPORALITY_DELTA,
    kind: str = "sum",
    unit: str = "",
) -> MetricPoint:
    """Return one metric data point."""
    return MetricPoint(
        name=name,
        unit=unit,
        kind=kind,
        temporality=temporality,
        monotonic=True,
        start_ns=start_ns,
        time_ns=time_ns,
        value=value,
        attributes=attrs or {},
        resource=resource if resource is not None else {"service.name": "claude-code"},
        scope_name="com.anthropic.claude_code",
    )
