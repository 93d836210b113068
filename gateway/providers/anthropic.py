"""Anthropic Messages API: x-api-key / Bearer keys, usage (input EXCLUDES cache), errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.providers.common import SseJsonParser, StreamParser, Usage, as_int, bearer
from semconv.names import PROVIDER_ANTHROPIC

NAME = PROVIDER_ANTHROPIC
CREDENTIAL_ENV = "OTELSPEND_ANTHROPIC_API_KEY"
DEFAULT_UPSTREAM = "https://api.anthropic.com"
# Anthropic's error types by status (https://docs.anthropic.com/en/api/errors).
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    502: "api_error",
    503: "overloaded_error",
}


def client_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """x-api-key (API-key clients) or Authorization: Bearer (ANTHROPIC_AUTH_TOKEN)."""
    return headers.get("x-api-key") or bearer(headers)


def auth_headers(credential: str) -> dict[str, str]:
    """How the gateway presents the real provider key."""
    return {"x-api-key": credential}


def error_body(status: int, message: str) -> dict[str, Any]:
    """The error JSON an Anthropic client parses and shows."""
    kind = _ERROR_TYPES.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def usage_of(u: Mapping[str, Any], out: Usage) -> None:
    """Fill `out` from an Anthropic usage object (fields present override)."""
    if "input_tokens" in u:
        out.input_tokens = as_int(u.get("input_tokens"))
    if "cache_read_input_tokens" in u:
        out.cache_read_tokens = as_int(u.get("cache_read_input_tokens"))
    if "cache_creation_input_tokens" in u:
        out.cache_write_tokens = as_int(u.get("cache_creation_input_tokens"))
    split = u.get("cache_creation")
    if isinstance(split, Mapping):
        out.cache_write_1h_tokens = as_int(split.get("ephemeral_1h_input_tokens"))
    if "output_tokens" in u:
        out.output_tokens = as_int(u.get("output_tokens"))


def json_usage(body: Any, operation: str) -> Usage | None:
    """Usage of a non-streaming response (count_tokens is free: None)."""
    if not isinstance(body, dict) or operation != "chat":
        return None
    usage = Usage(
        response_id=str(body.get("id") or ""), response_model=str(body.get("model") or "")
    )
    u = body.get("usage")
    if isinstance(u, Mapping):
        usage_of(u, usage)
        usage.complete = True
    return usage


class _Stream(SseJsonParser):
    """message_start carries input and cache usage; message_delta the cumulative output."""

    def on_event(self, obj: Mapping[str, Any]) -> None:
        kind = obj.get("type")
        u = self.usage
        if kind == "content_block_delta":
            delta = obj.get("delta")
            if isinstance(delta, Mapping):
                text = delta.get("text") or delta.get("partial_json") or delta.get("thinking")
                u.output_chars += len(text) if isinstance(text, str) else 0
                u.output_events += 1
        elif kind == "message_start":
            msg = obj.get("message")
            if isinstance(msg, Mapping):
                u.response_id = str(msg.get("id") or "")
                u.response_model = str(msg.get("model") or "")
                if isinstance(msg.get("usage"), Mapping):
                    usage_of(msg["usage"], u)
        elif kind == "message_delta" and isinstance(obj.get("usage"), Mapping):
            usage_of(obj["usage"], u)
            u.complete = True


def stream_parser(operation: str) -> StreamParser:
    """A parser for a streamed Messages response."""
    return _Stream(Usage())
