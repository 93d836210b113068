"""The OTLP/HTTP receiver: POST /v1/{traces,logs,metrics}, protobuf or JSON, plain or gzip."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping, Sequence

from aiohttp import web

from collector_processor import errors
from collector_processor.consumer import Authenticator, Consumer
from collector_processor.receiver import status
from collector_processor.receiver.signals import (
    ENCODING_JSON,
    ENCODING_PROTOBUF,
    SIGNALS,
    Signal,
    bearer_token,
    encode_message,
    export_request,
)

DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
_READ_CHUNK_BYTES = 64 * 1024
_GZIP_MAGIC = b"\x1f\x8b"
_MEDIA_TYPES = {"application/x-protobuf": ENCODING_PROTOBUF, "application/json": ENCODING_JSON}
_CONTENT_TYPES = {encoding: media for media, encoding in _MEDIA_TYPES.items()}
_CONTENT_CODINGS = frozenset({"", "identity", "gzip"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_http_app(
    consumer: Consumer,
    auth: Authenticator,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    health: Callable[[], Mapping[str, object]] | None = None,
    extra_routes: Sequence[web.AbstractRouteDef] = (),
) -> web.Application:
    """Build the aiohttp application serving the OTLP/HTTP endpoints and GET /health.

    `extra_routes` lets other components (budget check, metrics, evaluations) share the port.

    Serve it with aiohttp's default auto_decompress=True so gzip bodies inflate while they
    stream in (bounded by max_body_bytes); a server without it still works, only slower.
    """
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")
    app = web.Application()
    for signal in SIGNALS:
        app.router.add_post(
            signal.http_path, _export_handler(signal, consumer, auth, max_body_bytes)
        )
    app.router.add_get("/health", _health_handler(health))
    app.add_routes(extra_routes)
    return app


def _export_handler(
    signal: Signal, consumer: Consumer, auth: Authenticator, max_body_bytes: int
) -> Handler:
    """Return the handler of one signal's POST endpoint."""

    async def handle(request: web.Request) -> web.StreamResponse:
        encoding = _encoding_of(request.headers.get("Content-Type", ""))
        try:
            key = auth.authenticate(bearer_token(request.headers.get("Authorization")))
            if encoding is None:
                raise errors.UnsupportedMediaType(
                    f"Content-Type must be application/x-protobuf or application/json, "
                    f"got {request.headers.get('Content-Type', '')!r}"
                )
            body = await _read_body(request, max_body_bytes)
            response = await export_request(signal, consumer, key, body, encoding)
        except Exception as exc:  # every failure becomes an OTLP answer, never a crash
            refusal = _error_response(status.answer_for(exc), encoding or ENCODING_PROTOBUF)
            if not request.content.is_eof():
                # The rest of the body is unread (too large, undecodable): tell the client
                # not to reuse a connection that is about to be closed under it.
                refusal.force_close()
            return refusal
        return web.Response(
            body=encode_message(response, encoding), content_type=_CONTENT_TYPES[encoding]
        )

    return handle


def _health_handler(health: Callable[[], Mapping[str, object]] | None) -> Handler:
    """Return the GET /health handler."""

    async def handle(request: web.Request) -> web.StreamResponse:
        details = dict(health()) if health is not None else {}
        return web.json_response({"status": "ok", **details})

    return handle


def _encoding_of(content_type: str) -> str | None:
    """Map a Content-Type (parameters such as charset ignored) to an OTLP encoding."""
    media_type = content_type.partition(";")[0].strip().lower()
    return _MEDIA_TYPES.get(media_type)


async def _read_body(request: web.Request, max_body_bytes: int) -> bytes:
    """Read the request body, decompressed, refusing anything over max_body_bytes."""
    coding = request.headers.get("Content-Encoding", "").strip().lower()
    if coding not in _CONTENT_CODINGS:
        raise errors.UnsupportedMediaType(
            f"Content-Encoding must be gzip or identity, got {coding!r}"
        )
    if request.content_length is not None and request.content_length > max_body_bytes:
        raise errors.PayloadTooLarge(_too_large(max_body_bytes))
    body = bytearray()
    try:
        # Chunked and auto-decompressed bodies have no trustworthy length: count as we go.
        async for chunk in request.content.iter_chunked(_READ_CHUNK_BYTES):
            body += chunk
            if len(body) > max_body_bytes:
                raise errors.PayloadTooLarge(_too_large(max_body_bytes))
    except web.RequestPayloadError as exc:  # aiohttp could not inflate or de-chunk the body
        raise errors.DecodeError(
            f"cannot read the request body: invalid {coding or 'identity'} data or chunk framing"
        ) from exc
    # aiohttp inflates gzip itself unless the server runs with auto_decompress=False; neither
    # a protobuf message nor JSON can start with the gzip magic, so this tells them apart.
    if coding == "gzip" and body[:2] == _GZIP_MAGIC:
        return _gunzip(bytes(body), max_body_bytes)
    return bytes(body)


def _gunzip(data: bytes, max_body_bytes: int) -> bytes:
    """Inflate a gzip body, stopping one byte past the limit so a bomb costs nothing."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(data, max_body_bytes + 1)
    except zlib.error as exc:
        raise errors.DecodeError(f"invalid gzip body: {exc}") from exc
    if len(body) > max_body_bytes:
        raise errors.PayloadTooLarge(_too_large(max_body_bytes))
    if not inflater.eof:
        raise errors.DecodeError("truncated gzip body")
    return body


def _too_large(max_body_bytes: int) -> str:
    """Return the message of a 413 answer."""
    return f"request body exceeds the limit of {max_body_bytes} bytes"


def _error_response(answer: status.ErrorAnswer, encoding: str) -> web.Response:
    """Build the HTTP error response: a google.rpc.Status body in the request's encoding."""
    return web.Response(
        status=answer.http_status,
        body=status.status_body(answer, encoding),
        content_type=_CONTENT_TYPES[encoding],
        headers=status.http_headers(answer),
    )
