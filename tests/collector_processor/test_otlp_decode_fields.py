"""Field-level mapping of the OTLP decode edge: values, ids, times, enums, and their errors."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from collector_processor.errors import DecodeError
from collector_processor.otlp.decode import decode_logs, decode_metrics, decode_traces
from semconv.records import (
    STATUS_ERROR,
    TEMPORALITY_CUMULATIVE,
    TEMPORALITY_DELTA,
    LogRecord,
    MetricPoint,
    SpanEvent,
    SpanRecord,
)

TRACE_ID = "5b8efff798038103d269b633813fc60c"
SPAN_ID = "eee19b7ec3c1b174"
PARENT_ID = "0102030405060708"
START_NS, END_NS = 1_795_391_329_306_000_000, 1_795_391_329_331_100_517
SPAN_PREFIX = "resourceSpans[0].scopeSpans[0].spans[0]"


def _kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def _array(*values: AnyValue) -> AnyValue:
    return AnyValue(array_value=ArrayValue(values=values))


def _kvlist(*pairs: KeyValue) -> AnyValue:
    return AnyValue(kvlist_value=KeyValueList(values=pairs))


def _json_body(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def _traces_json(span: dict[str, Any]) -> bytes:
    """Wrap one JSON span in a request with one resource and one scope."""
    return _json_body(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]
                    },
                    "scopeSpans": [{"scope": {"name": "genai"}, "spans": [span]}],
                }
            ]
        }
    )


def _span_json(**fields: Any) -> dict[str, Any]:
    """A minimal valid JSON span, with `fields` replacing or adding fields."""
    return {"traceId": TRACE_ID, "spanId": SPAN_ID, "name": "s", **fields}


def _one_span(**fields: Any) -> SpanRecord:
    (span,) = decode_traces(_traces_json(_span_json(**fields)), "json")
    return span


def _decode_error(**fields: Any) -> str:
    with pytest.raises(DecodeError) as caught:
        decode_traces(_traces_json(_span_json(**fields)), "json")
    return str(caught.value)


# --- One span with every kind of value, in both encodings ------------------------------------

EXPECTED_ATTRIBUTES = {
    "gen_ai.request.model": "gpt-5",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.request.temperature": 0.5,
    "stream": True,
    "blob": "00ff10",
    "gen_ai.response.finish_reasons": ["stop", 2, None],
    "extra": {"a": 1, "nested": {"b": [False]}},
    "unset": None,
}
EXPECTED_SPAN = SpanRecord(
    trace_id=TRACE_ID,
    span_id=SPAN_ID,
    parent_span_id="",
    name="chat gpt-5",
    kind=3,
    start_ns=START_NS,
    end_ns=END_NS,
    attributes=EXPECTED_ATTRIBUTES,
    resource={"service.name": "agent"},
    scope_name="genai",
    status_code=STATUS_ERROR,
    status_message="rate limited",
    events=(SpanEvent(name="gen_ai.choice", time_ns=START_NS + 7, attributes={"index": 0}),),
)


def _rich_span_protobuf() -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.append(_kv("service.name", AnyValue(string_value="agent")))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "genai"
    span = scope_spans.spans.add(
        trace_id=bytes.fromhex(TRACE_ID),
        span_id=bytes.fromhex(SPAN_ID),
        parent_span_id=bytes(8),
        name="chat gpt-5",
        kind=3,
        start_time_unix_nano=START_NS,
        end_time_unix_nano=END_NS,
    )
    span.status.code, span.status.message = 2, "rate limited"
    span.attributes.extend(
        [
            _kv("gen_ai.request.model", AnyValue(string_value="gpt-5")),
            _kv("gen_ai.usage.input_tokens", AnyValue(int_value=1200)),
            _kv("gen_ai.request.temperature", AnyValue(double_value=0.5)),
            _kv("stream", AnyValue(bool_value=True)),
            _kv("blob", AnyValue(bytes_value=b"\x00\xff\x10")),
            _kv(
                "gen_ai.response.finish_reasons",
                _array(AnyValue(string_value="stop"), AnyValue(int_value=2), AnyValue()),
            ),
            _kv(
                "extra",
                _kvlist(
                    _kv("a", AnyValue(int_value=1)),
                    _kv("nested", _kvlist(_kv("b", _array(AnyValue(bool_value=False))))),
                ),
            ),
            _kv("unset", AnyValue()),
        ]
    )
    event = span.events.add(name="gen_ai.choice", time_unix_nano=START_NS + 7)
    event.attributes.append(_kv("index", AnyValue(int_value=0)))
    return request.SerializeToString()


RICH_SPAN_JSON = _span_json(
    parentSpanId="0000000000000000",
    name="chat gpt-5",
    kind=3,
    startTimeUnixNano=str(START_NS),
    endTimeUnixNano=END_NS,
    status={"code": 2, "message": "rate limited"},
    events=[
        {
            "name": "gen_ai.choice",
            "timeUnixNano": str(START_NS + 7),
            "attributes": [{"key": "index", "value": {"intValue": "0"}}],
        }
    ],
    attributes=[
        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-5"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "1200"}},
        {"key": "gen_ai.request.temperature", "value": {"doubleValue": 0.5}},
        {"key": "stream", "value": {"boolValue": True}},
        {"key": "blob", "value": {"bytesValue": "AP8Q"}},
        {
            "key": "gen_ai.response.finish_reasons",
            "value": {"arrayValue": {"values": [{"stringValue": "stop"}, {"intValue": 2}, {}]}},
        },
        {
            "key": "extra",
            "value": {
                "kvlistValue": {
                    "values": [
                        {"key": "a", "value": {"intValue": 1}},
                        {
                            "key": "nested",
                            "value": {
                                "kvlistValue": {
                                    "values": [
                                        {
                                            "key": "b",
                                            "value": {
                                                "arrayValue": {"values": [{"boolValue": False}]}
                                            },
                                        }
                                    ]
                                }
                            },
                        },
                    ]
                }
            },
        },
        {"key": "unset", "value": {}},
    ],
)


def test_rich_span_from_protobuf() -> None:
    assert decode_traces(_rich_span_protobuf(), "protobuf") == [EXPECTED_SPAN]


def test_rich_span_from_json() -> None:
    assert decode_traces(_traces_json(RICH_SPAN_JSON), "json") == [EXPECTED_SPAN]


def test_json_accepts_snake_case_field_names_and_enum_names() -> None:
    span = _span_json(
        trace_id=TRACE_ID.upper(),
        span_id=SPAN_ID,
        parent_span_id=PARENT_ID,
        kind="SPAN_KIND_CLIENT",
        start_time_unix_nano=START_NS,
        end_time_unix_nano=END_NS,
        status={"code": "STATUS_CODE_ERROR", "message": "x"},
        attributes=[
            {"key": "n", "value": {"int_value": 5}},
            {"key": "s", "value": {"string_value": "v"}},
        ],
    )
    del span["traceId"], span["spanId"]
    (record,) = decode_traces(_traces_json(span), "json")
    assert (record.trace_id, record.span_id, record.parent_span_id) == (
        TRACE_ID,
        SPAN_ID,
        PARENT_ID,
    )
    assert (record.kind, record.status_code, record.start_ns) == (3, STATUS_ERROR, START_NS)
    assert record.attributes == {"n": 5, "s": "v"}


# --- JSON values ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"intValue": "1200"}, 1200),
        ({"intValue": 1200}, 1200),
        ({"intValue": "-9223372036854775808"}, -(2**63)),
        ({"doubleValue": 1}, 1.0),
        ({"doubleValue": "Infinity"}, math.inf),
        ({"doubleValue": "-Infinity"}, -math.inf),
        ({"doubleValue": "2.5"}, 2.5),
        ({"bytesValue": "3q2+7w=="}, "deadbeef"),
        ({"bytesValue": "3q2-7w"}, "deadbeef"),  # URL-safe alphabet, no padding
        ({"arrayValue": {}}, []),
        ({"kvlistValue": {"values": []}}, {}),
        ({"stringValue": ""}, ""),
        ({"stringValue": None}, None),
    ],
)
def test_json_any_value(value: dict[str, Any], expected: Any) -> None:
    got = _one_span(attributes=[{"key": "k", "value": value}]).attributes["k"]
    assert got == expected and type(got) is type(expected)


def test_json_double_nan() -> None:
    got = _one_span(attributes=[{"key": "k", "value": {"doubleValue": "NaN"}}]).attributes["k"]
    assert math.isnan(got)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"intValue": "12x"}, "intValue: expected a 64-bit integer"),
        ({"intValue": True}, "intValue: expected a 64-bit integer"),
        ({"intValue": str(2**63)}, "intValue: expected a 64-bit integer"),
        ({"doubleValue": "fast"}, 'doubleValue: expected a number or "NaN"'),
        ({"boolValue": "true"}, "boolValue: expected true or false, got 'true'"),
        ({"stringValue": 5}, "stringValue: expected a string, got 5"),
        ({"bytesValue": "***"}, "bytesValue: expected base64 bytes"),
        ({"arrayValue": {"values": [{"intValue": "x"}]}}, "arrayValue.values[0].intValue: "),
        ({"kvlistValue": {"values": [{"key": 1}]}}, "kvlistValue.values[0]: expected an object"),
        ("plain", "expected an AnyValue object, got 'plain'"),
    ],
)
def test_json_bad_value_names_its_path(value: Any, problem: str) -> None:
    message = _decode_error(
        attributes=[{"key": "ok", "value": {"intValue": 1}}, {"key": "k", "value": value}]
    )
    assert message.startswith(f"{SPAN_PREFIX}.attributes[1]")
    assert problem in message


def test_json_attribute_without_key_is_rejected() -> None:
    message = _decode_error(attributes=[{"value": {"intValue": 1}}])
    assert message.startswith(
        f'{SPAN_PREFIX}.attributes[0]: expected an object with a string "key"'
    )


# --- JSON ids, times and enums --------------------------------------------------------------


def test_json_bad_trace_id_message() -> None:
    assert (
        _decode_error(traceId="zz")
        == f"{SPAN_PREFIX}.traceId: expected 32 hex characters, got 'zz'"
    )


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("traceId", "g" * 32, "expected 32 hex characters"),
        ("traceId", TRACE_ID[:-2], "expected 32 hex characters"),
        ("traceId", None, "expected 32 hex characters, got none"),
        ("spanId", "", "expected 16 hex characters, got none"),
        ("spanId", 5, "expected 16 hex characters, got 5"),
        ("parentSpanId", "xyz", "expected 16 hex characters, got 'xyz'"),
        ("startTimeUnixNano", -1, "expected an unsigned 64-bit integer, got -1"),
        ("endTimeUnixNano", "soon", "expected an unsigned 64-bit integer, got 'soon'"),
        ("kind", "SPAN_KIND_FAST", "expected an enum number or one of"),
        ("name", 3, "expected a string, got 3"),
        ("events", {"name": "e"}, "expected an array"),
        ("status", [], "expected an object, got an array"),
    ],
)
def test_json_bad_span_field_names_its_path(field: str, value: Any, problem: str) -> None:
    span = _span_json(**{field: value})
    if value is None:
        del span[field]
    with pytest.raises(DecodeError) as caught:
        decode_traces(_traces_json(span), "json")
    assert str(caught.value).startswith(f"{SPAN_PREFIX}.{field}")
    assert problem in str(caught.value)


def test_json_ids_accept_uppercase_and_base64_and_all_zero_reads_as_absent() -> None:
    span = _one_span(traceId=TRACE_ID.upper(), spanId="7uGbfsPBsXQ=", parentSpanId="0" * 16)
    assert (span.trace_id, span.span_id, span.parent_span_id) == (TRACE_ID, SPAN_ID, "")


_EVENT_SPAN = {"traceId": TRACE_ID, "spanId": SPAN_ID, "events": [{"timeUnixNano": "x"}]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"resourceSpans": {}}, "resourceSpans: expected an array, got an object"),
        ({"resourceSpans": [3]}, "resourceSpans[0]: expected an object, got 3"),
        (
            {"resourceSpans": [{"resource": {"attributes": 1}}]},
            "resourceSpans[0].resource.attributes: expected an array, got 1",
        ),
        (
            {"resourceSpans": [{"scopeSpans": [{"scope": {"name": 1}}]}]},
            "resourceSpans[0].scopeSpans[0].scope.name: expected a string, got 1",
        ),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": ["x"]}]}]},
            "resourceSpans[0].scopeSpans[0].spans[0]: expected an object, got 'x'",
        ),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": [_EVENT_SPAN]}]}]},
            f"{SPAN_PREFIX}.events[0].timeUnixNano: expected an unsigned 64-bit integer, got 'x'",
        ),
    ],
)
def test_json_structural_errors_name_the_level(document: dict[str, Any], message: str) -> None:
    with pytest.raises(DecodeError) as caught:
        decode_traces(_json_body(document), "json")
    assert str(caught.value) == message


# --- Protobuf ids -------------------------------------------------------------------------


def _span_protobuf(trace_id: bytes, span_id: bytes, parent: bytes = b"") -> bytes:
    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    scope_spans.spans.add(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name="s")
    return request.SerializeToString()


def test_protobuf_wrong_length_id_names_its_path() -> None:
    with pytest.raises(DecodeError) as caught:
        decode_traces(_span_protobuf(b"\x01" * 5, b"\x02" * 8), "protobuf")
    assert str(caught.value) == (
        "resource_spans[0].scope_spans[0].spans[0].trace_id: expected 16 bytes, got 5"
    )


def test_protobuf_missing_span_id_is_rejected() -> None:
    with pytest.raises(DecodeError, match=r"spans\[0\]\.span_id: expected 8 bytes, got 0"):
        decode_traces(_span_protobuf(b"\x01" * 16, b""), "protobuf")


def test_protobuf_all_zero_ids_read_as_absent() -> None:
    (span,) = decode_traces(_span_protobuf(bytes(16), b"\xab" * 8, bytes(8)), "protobuf")
    assert (span.trace_id, span.span_id, span.parent_span_id) == ("", "ab" * 8, "")
    assert (span.resource, span.scope_name, span.events) == ({}, "", ())


# --- Logs -----------------------------------------------------------------------------------

EVENT_TS_NS = 1_795_391_332_802_000_000  # 2026-11-22T23:48:52.802Z


@pytest.mark.parametrize(
    ("time_ns", "observed_ns", "stamp", "expected"),
    [
        (5, 7, "2026-11-22T23:48:52.802Z", 5),
        (0, 7, "2026-11-22T23:48:52.802Z", 7),
        (0, 0, "2026-11-22T23:48:52.802Z", EVENT_TS_NS),
        (0, 0, "2026-11-22T23:48:52.802+00:00", EVENT_TS_NS),
        (0, 0, "2026-11-23T00:48:52.802+01:00", EVENT_TS_NS),
        (0, 0, "2026-11-22T23:48:52.802", EVENT_TS_NS),  # no zone: UTC
        (0, 0, "yesterday", 0),
        (0, 0, None, 0),
    ],
)
def test_log_time_fallbacks_agree_in_both_encodings(
    time_ns: int, observed_ns: int, stamp: str | None, expected: int
) -> None:
    request = ExportLogsServiceRequest()
    log = (
        request.resource_logs.add()
        .scope_logs.add()
        .log_records.add(time_unix_nano=time_ns, observed_time_unix_nano=observed_ns)
    )
    json_log: dict[str, Any] = {"timeUnixNano": time_ns, "observedTimeUnixNano": str(observed_ns)}
    if stamp is not None:
        log.attributes.append(_kv("event.timestamp", AnyValue(string_value=stamp)))
        json_log["attributes"] = [{"key": "event.timestamp", "value": {"stringValue": stamp}}]
    body = _json_body({"resourceLogs": [{"scopeLogs": [{"logRecords": [json_log]}]}]})
    from_pb = decode_logs(request.SerializeToString(), "protobuf")
    assert from_pb == decode_logs(body, "json")
    assert from_pb[0].time_ns == expected and from_pb[0].observed_ns == observed_ns


@pytest.mark.parametrize(
    ("field", "attribute", "expected"),
    [
        (
            "gen_ai.client.inference.operation.details",
            "codex.sse_event",
            "gen_ai.client.inference.operation.details",
        ),
        ("", "claude_code.api_request", "claude_code.api_request"),
        ("", None, ""),
    ],
)
def test_log_event_name_prefers_the_field(field: str, attribute: str | None, expected: str) -> None:
    json_log: dict[str, Any] = {"eventName": field}
    request = ExportLogsServiceRequest()
    log = request.resource_logs.add().scope_logs.add().log_records.add(event_name=field)
    if attribute is not None:
        log.attributes.append(_kv("event.name", AnyValue(string_value=attribute)))
        json_log["attributes"] = [{"key": "event.name", "value": {"stringValue": attribute}}]
    body = _json_body({"resourceLogs": [{"scopeLogs": [{"logRecords": [json_log]}]}]})
    (from_pb,) = decode_logs(request.SerializeToString(), "protobuf")
    assert from_pb.event_name == expected
    assert decode_logs(body, "json") == [from_pb]


def test_log_fields_in_both_encodings() -> None:
    expected = LogRecord(
        time_ns=10,
        observed_ns=11,
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        severity_number=17,
        severity_text="ERROR",
        body={"msg": "quota", "n": [1, 2]},
        event_name="e",
        attributes={"event.name": "e"},
        resource={"service.name": "codex"},
        scope_name="codex_otel",
    )
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(_kv("service.name", AnyValue(string_value="codex")))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "codex_otel"
    log = scope_logs.log_records.add(
        time_unix_nano=10,
        observed_time_unix_nano=11,
        trace_id=bytes.fromhex(TRACE_ID),
        span_id=bytes.fromhex(SPAN_ID),
        severity_number=17,
        severity_text="ERROR",
    )
    log.attributes.append(_kv("event.name", AnyValue(string_value="e")))
    log.body.kvlist_value.values.extend(
        [
            _kv("msg", AnyValue(string_value="quota")),
            _kv(
                "n",
                _array(AnyValue(int_value=1), AnyValue(int_value=2)),
            ),
        ]
    )
    body = _json_body(
        {
            "resourceLogs": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "codex"}}]
                    },
                    "scopeLogs": [
                        {
                            "scope": {"name": "codex_otel"},
                            "logRecords": [
                                {
                                    "timeUnixNano": "10",
                                    "observedTimeUnixNano": "11",
                                    "traceId": TRACE_ID,
                                    "spanId": SPAN_ID,
                                    "severityNumber": "SEVERITY_NUMBER_ERROR",
                                    "severityText": "ERROR",
                                    "attributes": [
                                        {"key": "event.name", "value": {"stringValue": "e"}}
                                    ],
                                    "body": {
                                        "kvlistValue": {
                                            "values": [
                                                {"key": "msg", "value": {"stringValue": "quota"}},
                                                {
                                                    "key": "n",
                                                    "value": {
                                                        "arrayValue": {
                                                            "values": [
                                                                {"intValue": 1},
                                                                {"intValue": "2"},
                                                            ]
                                                        }
                                                    },
                                                },
                                            ]
                                        }
                                    },
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    assert decode_logs(request.SerializeToString(), "protobuf") == [expected]
    assert decode_logs(body, "json") == [expected]


def test_json_log_ids_may_be_empty_but_not_malformed() -> None:
    ok = _json_body(
        {
            "resourceLogs": [
                {
                    "scopeLogs": [
                        {
                            "logRecords": [
                                {"traceId": "", "spanId": "", "body": {"stringValue": "hi"}}
                            ]
                        }
                    ]
                }
            ]
        }
    )
    (log,) = decode_logs(ok, "json")
    assert (log.trace_id, log.span_id, log.body) == ("", "", "hi")
    bad = _json_body({"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "abc"}]}]}]})
    with pytest.raises(DecodeError) as caught:
        decode_logs(bad, "json")
    assert str(caught.value) == (
        "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: expected 32 hex characters, got 'abc'"
    )


# --- Metrics --------------------------------------------------------------------------------


def _point(
    name: str,
    unit: str,
    kind: str,
    value: int | float,
    temporality: int = 0,
    monotonic: bool = False,
) -> MetricPoint:
    return MetricPoint(
        name=name,
        unit=unit,
        kind=kind,
        temporality=temporality,
        monotonic=monotonic,
        start_ns=1,
        time_ns=2,
        value=value,
        attributes={"type": "input"},
        resource={"service.name": "agent"},
        scope_name="m",
    )


EXPECTED_POINTS = [
    _point("tokens", "{token}", "sum", 1200, TEMPORALITY_DELTA, True),
    _point("tokens", "{token}", "sum", 0.25, TEMPORALITY_DELTA, True),
    _point("queue", "1", "gauge", 3),
    _point("latency", "s", "histogram", 4.5, TEMPORALITY_CUMULATIVE),
    _point("latency", "s", "histogram", 0.0, TEMPORALITY_CUMULATIVE),
    _point("size", "By", "exponential_histogram", 9.0, TEMPORALITY_DELTA),
    _point("rtt", "ms", "summary", 12.0),
]


def _metrics_protobuf() -> bytes:
    request = ExportMetricsServiceRequest()
    resource_metrics = request.resource_metrics.add()
    resource_metrics.resource.attributes.append(_kv("service.name", AnyValue(string_value="agent")))
    scope_metrics = resource_metrics.scope_metrics.add()
    scope_metrics.scope.name = "m"
    point: dict[str, Any] = {
        "start_time_unix_nano": 1,
        "time_unix_nano": 2,
        "attributes": [_kv("type", AnyValue(string_value="input"))],
    }
    metrics = scope_metrics.metrics
    metrics.add(
        name="tokens",
        unit="{token}",
        sum={
            "aggregation_temporality": 1,
            "is_monotonic": True,
            "data_points": [{**point, "as_int": 1200}, {**point, "as_double": 0.25}],
        },
    )
    metrics.add(name="queue", unit="1", gauge={"data_points": [{**point, "as_int": 3}]})
    metrics.add(
        name="latency",
        unit="s",
        histogram={
            "aggregation_temporality": 2,
            "data_points": [{**point, "sum": 4.5, "count": 2}, {**point, "count": 0}],
        },
    )
    metrics.add(
        name="size",
        unit="By",
        exponential_histogram={
            "aggregation_temporality": 1,
            "data_points": [{**point, "sum": 9.0, "count": 3}],
        },
    )
    metrics.add(name="rtt", unit="ms", summary={"data_points": [{**point, "sum": 12.0}]})
    metrics.add(name="no-data")
    return request.SerializeToString()


def _metrics_json() -> bytes:
    point = {
        "startTimeUnixNano": "1",
        "timeUnixNano": 2,
        "attributes": [{"key": "type", "value": {"stringValue": "input"}}],
    }
    return _json_body(
        {
            "resourceMetrics": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]
                    },
                    "scopeMetrics": [
                        {
                            "scope": {"name": "m"},
                            "metrics": [
                                {
                                    "name": "tokens",
                                    "unit": "{token}",
                                    "sum": {
                                        "aggregationTemporality": "AGGREGATION_TEMPORALITY_DELTA",
                                        "isMonotonic": True,
                                        "dataPoints": [
                                            {**point, "asInt": "1200"},
                                            {**point, "asDouble": 0.25},
                                        ],
                                    },
                                },
                                {
                                    "name": "queue",
                                    "unit": "1",
                                    "gauge": {"dataPoints": [{**point, "asInt": 3}]},
                                },
                                {
                                    "name": "latency",
                                    "unit": "s",
                                    "histogram": {
                                        "aggregationTemporality": 2,
                                        "dataPoints": [
                                            {**point, "sum": 4.5, "count": "2"},
                                            {**point, "count": 0},
                                        ],
                                    },
                                },
                                {
                                    "name": "size",
                                    "unit": "By",
                                    "exponential_histogram": {
                                        "aggregation_temporality": 1,
                                        "data_points": [{**point, "sum": 9, "count": 3}],
                                    },
                                },
                                {
                                    "name": "rtt",
                                    "unit": "ms",
                                    "summary": {"dataPoints": [{**point, "sum": "12"}]},
                                },
                                {"name": "no-data"},
                            ],
                        }
                    ],
                }
            ]
        }
    )


def test_metric_points_from_protobuf() -> None:
    points = decode_metrics(_metrics_protobuf(), "protobuf")
    assert points == EXPECTED_POINTS
    assert [type(p.value) for p in points] == [int, float, int, float, float, float, float]


def test_metric_points_from_json() -> None:
    points = decode_metrics(_metrics_json(), "json")
    assert points == EXPECTED_POINTS
    assert [type(p.value) for p in points] == [int, float, int, float, float, float, float]


def test_json_bad_metric_point_names_its_path() -> None:
    body = _json_body(
        {
            "resourceMetrics": [
                {
                    "scopeMetrics": [
                        {
                            "metrics": [
                                {"name": "ok", "gauge": {"dataPoints": [{"asInt": 1}]}},
                                {
                                    "name": "bad",
                                    "sum": {"dataPoints": [{"asInt": 1}, {"asDouble": "many"}]},
                                },
                            ]
                        }
                    ]
                }
            ]
        }
    )
    with pytest.raises(DecodeError) as caught:
        decode_metrics(body, "json")
    assert str(caught.value).startswith(
        "resourceMetrics[0].scopeMetrics[0].metrics[1].sum.dataPoints[1].asDouble: "
        'expected a number or "NaN"'
    )
