"""Gemini generateContent: x-goog-api-key / ?key= keys, usageMetadata (prompt INCLUDES cached)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.providers.common import SseJsonParser, StreamParser, Usage, as_int, parse_json
from semconv.names import PROVIDER_GOOGLE

NAME = PROVIDER_GOOGLE
CREDENTIAL_ENV = "OTELSPEND_GEMINI_API_KEY"
DEFAULT_UPSTREAM = "https://generativelanguage.googleapis.com"
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    502: "UNAVAILABLE",
}
_TAIL_BYTES = 64 * 1024
_USAGE_IN_TAIL = re.compile(rb'"usageMetadata"\s*:\s*(\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\})')


def client_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """x-goog-api-key (Gemini CLI, google-genai) or the ?key= query parameter."""
    return headers.get("x-goog-api-key") or query.get("key")


def auth_headers(credential: str) -> dict[str, str]:
    """How the gateway presents the real provider key."""
    return {"x-goog-api-key": credential}


def error_body(status: int, message: str) -> dict[str, Any]:
    """google.rpc.Status as the Gemini API returns it."""
    return {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNKNOWN")}}


def usage_of(meta: Mapping[str, Any], out: Usage) -> None:
    """Fill `out` from usageMetadata; thoughts are outside candidates, so added to output."""
    prompt = as_int(meta.get("promptTokenCount"))
    out.cache_read_tokens = min(as_int(meta.get("cachedContentTokenCount")), prompt)
    out.input_tokens = prompt - out.cache_read_tokens
    thoughts = as_int(meta.get("thoughtsTokenCount"))
    out.output_tokens = as_int(meta.get("candidatesTokenCount")) + thoughts
    out.reasoning_tokens = thoughts


def _chunk(obj: Mapping[str, Any], u: Usage) -> None:
    u.response_id = str(obj.get("responseId") or u.response_id)
    u.response_model = str(obj.get("modelVersion") or u.response_model)
    for cand in obj.get("candidates") or ():
        content = cand.get("content") if isinstance(cand, Mapping) else None
        for part in (content or {}).get("parts") or ():
            text = part.get("text") if isinstance(part, Mapping) else None
            u.output_chars += len(text) if isinstance(text, str) else 0
        u.output_events += 1
        if isinstance(cand, Mapping) and cand.get("finishReason"):
            u.complete = True
    if isinstance(obj.get("usageMetadata"), Mapping):
        usage_of(obj["usageMetadata"], u)  # cumulative: the last chunk's is final


def json_usage(body: Any, operation: str) -> Usage | None:
    """Usage of a non-streaming generateContent answer (countTokens: None)."""
    if not isinstance(body, dict) or operation != "generate_content":
        return None
    usage = Usage()
    _chunk(body, usage)
    usage.complete = isinstance(body.get("usageMetadata"), Mapping)
    return usage


class _SseStream(SseJsonParser):
    """streamGenerateContent?alt=sse: one GenerateContentResponse per event."""

    def on_event(self, obj: Mapping[str, Any]) -> None:
        _chunk(obj, self.usage)


class _ArrayStream:
    """streamGenerateContent without alt=sse streams one JSON array: read its tail only."""

    def __init__(self) -> None:
        self.usage = Usage()
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        self._tail = (self._tail + chunk)[-_TAIL_BYTES:]
        self.usage.output_chars += len(chunk) // 8  # rough: most of the array is JSON framing
        found = _USAGE_IN_TAIL.findall(self._tail)
        meta = parse_json(found[-1]) if found else None
        if isinstance(meta, dict):
            usage_of(meta, self.usage)
            self.usage.complete = b"finishReason" in self._tail


def stream_parser(operation: str, sse: bool = True) -> StreamParser:
    """A parser for a streamed generateContent answer."""
    return _SseStream(Usage()) if sse else _ArrayStream()
