"""The one place that turns an ingest error into an OTLP answer: HTTP status, gRPC code, body.

OTLP error bodies are google.rpc.Status messages.  That message is not part of
opentelemetry-proto or protobuf's well-known types (it lives in googleapis-common-protos,
which only the OTLP exporters pull in), and it has three fields, so it is encoded here by hand.
"""

from __future__ import annotations

import json
import logging
from typing import NamedTuple

import grpc
from google.protobuf.any_pb2 import Any as AnyProto
from google.protobuf.duration_pb2 import Duration

from collector_processor import errors

_LOG = logging.getLogger(__name__)

RETRY_INFO_TYPE_URL = "type.googleapis.com/google.rpc.RetryInfo"
# Trailing metadata the Python OTLP exporter reads its backoff from (a serialized RetryInfo).
RETRY_INFO_METADATA_KEY = "google.rpc.retryinfo-bin"
# Trailing metadata gRPC's own client retry policy honours.
RETRY_PUSHBACK_METADATA_KEY = "grpc-retry-pushback-ms"
# Trailing metadata carrying the full google.rpc.Status (what grpc-status / rpc_status read).
STATUS_DETAILS_METADATA_KEY = "grpc-status-details-bin"

_INTERNAL_MESSAGE = "internal error while handling the export request"


class ErrorAnswer(NamedTuple):
    """How one failed export request is answered, in both protocols."""

    http_status: int
    grpc_code: grpc.StatusCode
    message: str
    retry_after_s: int | None = None  # set only for retryable answers


# Order matters only where classes nest: DecodeError is an InvalidInput and maps the same way.
_MAPPING: tuple[tuple[type[errors.IngestError], int, grpc.StatusCode], ...] = (
    (errors.InvalidInput, 400, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.UnsupportedMediaType, 415, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.PayloadTooLarge, 413, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unauthenticated, 401, grpc.StatusCode.UNAUTHENTICATED),
    (errors.Overloaded, 429, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, 503, grpc.StatusCode.UNAVAILABLE),
)


def answer_for(exc: BaseException) -> ErrorAnswer:
    """Classify an exception raised while handling an export; log unexpected ones."""
    for error_type, http_status, grpc_code in _MAPPING:
        if isinstance(exc, error_type):
            retry_after_s = getattr(exc, "retry_after_s", None)
            message = str(exc) or error_type.__name__
            _LOG.debug("export refused (%s): %s", http_status, message)
            return ErrorAnswer(http_status, grpc_code, message, retry_after_s)
    # Never echo an unexpected exception to the client: it may carry internals.
    _LOG.error("unexpected error handling an export request", exc_info=exc)
    return ErrorAnswer(500, grpc.StatusCode.INTERNAL, _INTERNAL_MESSAGE)


def http_headers(answer: ErrorAnswer) -> dict[str, str]:
    """Return the extra HTTP headers an error answer carries."""
    headers: dict[str, str] = {}
    if answer.retry_after_s is not None:
        headers["Retry-After"] = str(answer.retry_after_s)
    if answer.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return headers


def status_body(answer: ErrorAnswer, encoding: str) -> bytes:
    """Return the google.rpc.Status body of an HTTP error answer ("protobuf" or "json")."""
    if encoding == "json":
        return _status_json(answer)
    return status_proto(answer)


def status_proto(answer: ErrorAnswer) -> bytes:
    """Encode the answer as a serialized google.rpc.Status."""
    body = _varint_field(1, answer.grpc_code.value[0])
    body += _bytes_field(2, answer.message.encode())
    if answer.retry_after_s is not None:
        detail = AnyProto(
            type_url=RETRY_INFO_TYPE_URL, value=retry_info_proto(answer.retry_after_s)
        )
        body += _bytes_field(3, detail.SerializeToString())
    return body


def retry_info_proto(retry_after_s: int) -> bytes:
    """Encode a serialized google.rpc.RetryInfo{retry_delay}."""
    return _bytes_field(1, Duration(seconds=retry_after_s).SerializeToString())


def grpc_trailing_metadata(answer: ErrorAnswer) -> tuple[tuple[str, str | bytes], ...]:
    """Return the trailing metadata of a gRPC error answer."""
    metadata: list[tuple[str, str | bytes]] = [(STATUS_DETAILS_METADATA_KEY, status_proto(answer))]
    if answer.retry_after_s is not None:
        metadata.append((RETRY_INFO_METADATA_KEY, retry_info_proto(answer.retry_after_s)))
        metadata.append((RETRY_PUSHBACK_METADATA_KEY, str(answer.retry_after_s * 1000)))
    return tuple(metadata)


def _status_json(answer: ErrorAnswer) -> bytes:
    """Encode the answer as google.rpc.Status in the proto3 JSON mapping."""
    status: dict[str, object] = {"code": answer.grpc_code.value[0], "message": answer.message}
    if answer.retry_after_s is not None:
        status["details"] = [
            {"@type": RETRY_INFO_TYPE_URL, "retryDelay": f"{answer.retry_after_s}s"}
        ]
    return json.dumps(status).encode()


def _varint(value: int) -> bytes:
    """Encode a non-negative int as a protobuf base-128 varint."""
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varint_field(number: int, value: int) -> bytes:
    """Encode a varint field; proto3 omits zero values."""
    return _varint(number << 3) + _varint(value) if value else b""


def _bytes_field(number: int, payload: bytes) -> bytes:
    """Encode a length-delimited field; proto3 omits empty values."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload if payload else b""
