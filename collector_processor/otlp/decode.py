"""The OTLP decode edge: protobuf or OTLP/JSON request bodies in, plain frozen records out.

Nothing past this module sees protobuf objects.  Bodies arrive already decompressed.  An
empty body is an empty export request and decodes to [].  Every malformed body raises
`collector_processor.errors.DecodeError` with a message a client can act on.
"""

from __future__ import annotations

from collector_processor.otlp import _json, _protobuf
from semconv.records import LogRecord, MetricPoint, SpanRecord

ENCODING_PROTOBUF = "protobuf"
ENCODING_JSON = "json"

__all__ = ["ENCODING_JSON", "ENCODING_PROTOBUF", "decode_logs", "decode_metrics", "decode_traces"]


def _check(encoding: str) -> None:
    """Reject an encoding name that is neither protobuf nor json (a wiring bug, not a client's)."""
    if encoding != ENCODING_PROTOBUF and encoding != ENCODING_JSON:
        raise ValueError(f"encoding must be 'protobuf' or 'json', got {encoding!r}")


def decode_traces(body: bytes, encoding: str) -> list[SpanRecord]:
    """Decode an ExportTraceServiceRequest body into span records."""
    _check(encoding)
    if encoding == ENCODING_PROTOBUF:
        return _protobuf.decode_traces(body)
    return _json.decode_traces(body)


def decode_logs(body: bytes, encoding: str) -> list[LogRecord]:
    """Decode an ExportLogsServiceRequest body into log records."""
    _check(encoding)
    if encoding == ENCODING_PROTOBUF:
        return _protobuf.decode_logs(body)
    return _json.decode_logs(body)


def decode_metrics(body: bytes, encoding: str) -> list[MetricPoint]:
    """Decode an ExportMetricsServiceRequest body into one MetricPoint per data point."""
    _check(encoding)
    if encoding == ENCODING_PROTOBUF:
        return _protobuf.decode_metrics(body)
    return _json.decode_metrics(body)
