"""POST /v1/evaluations: evaluator jobs tag traces, spans and responses in JSON batches.

Mounted on the OTLP/HTTP port (receiver.http.build_http_app(extra_routes=...)) and guarded by
the same ingest keys.  Answers mirror OTLP: 200 after commit, with the refused items listed;
400 bad body, 401 bad key, 413 too large, 415 not JSON, 429 queue full, 503 store failure.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web

from collector_processor import errors
from collector_processor.consumer import Authenticator
from collector_processor.evaluations.rows import evaluation_row, parse_request
from collector_processor.receiver import status
from collector_processor.receiver.signals import bearer_token
from store.writer import QueueFull, StoreWriter, WriteBatch, WriterClosed

EVALUATIONS_PATH = "/v1/evaluations"
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
_READ_CHUNK_BYTES = 64 * 1024
_MAX_ERRORS_LISTED = 100


def evaluation_routes(
    writer: StoreWriter, auth: Authenticator, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> list[web.RouteDef]:
    """The routes to pass as build_http_app(extra_routes=...)."""
    if max_body_bytes <= 0:
        raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes}")

    async def handle(request: web.Request) -> web.StreamResponse:
        """Answer one POST /v1/evaluations."""
        try:
            return await _handle(request, writer, auth, max_body_bytes)
        except Exception as exc:  # every failure becomes a JSON answer with the right status
            answer = status.answer_for(exc)
            response = web.json_response(
                {"error": answer.message},
                status=answer.http_status,
                headers=status.http_headers(answer),
            )
            if not request.content.is_eof():
                response.force_close()  # unread body: the connection cannot be reused
            return response

    return [web.post(EVALUATIONS_PATH, handle)]


async def _handle(
    request: web.Request, writer: StoreWriter, auth: Authenticator, max_body_bytes: int
) -> web.StreamResponse:
    key = auth.authenticate(bearer_token(request.headers.get("Authorization")))
    media = request.headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if media != "application/json":
        raise errors.UnsupportedMediaType(f"Content-Type must be application/json, got {media!r}")
    body = await _read_body(request, max_body_bytes)
    found, refused = parse_request(body, key)
    now = time.time_ns()
    rows = [evaluation_row(e, key.org_id, key.key_id, now) for e in found]
    if rows:
        await _commit(writer, WriteBatch(org_id=key.org_id, evaluations=rows))
    answer: dict[str, Any] = {"accepted": len(rows), "rejected": len(refused)}
    if refused:
        answer["errors"] = [{"index": r.index, "reason": r.reason} for r in refused][
            :_MAX_ERRORS_LISTED
        ]
    return web.json_response(answer)


async def _commit(writer: StoreWriter, batch: WriteBatch) -> None:
    """Hand the batch to the single writer and wait for its commit."""
    try:
        fut = writer.submit(batch)
    except QueueFull as exc:
        raise errors.Overloaded(f"{exc}; retry later", retry_after_s=1) from exc
    except WriterClosed as exc:
        raise errors.Unavailable(str(exc)) from exc
    try:
        await asyncio.wrap_future(fut)
    except Exception as exc:
        raise errors.Unavailable(f"store commit failed: {exc.__class__.__name__}") from exc


async def _read_body(request: web.Request, max_body_bytes: int) -> bytes:
    """Read the (auto-inflated) body, refusing anything over the limit."""
    too_large = f"request body exceeds the limit of {max_body_bytes} bytes"
    if request.content_length is not None and request.content_length > max_body_bytes:
        raise errors.PayloadTooLarge(too_large)
    body = bytearray()
    try:
        async for chunk in request.content.iter_chunked(_READ_CHUNK_BYTES):
            body += chunk
            if len(body) > max_body_bytes:
                raise errors.PayloadTooLarge(too_large)
    except web.RequestPayloadError as exc:
        raise errors.DecodeError("cannot read the request body (bad gzip or chunking)") from exc
    return bytes(body)
