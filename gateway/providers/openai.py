"""OpenAI Chat Completions, Responses, Embeddings: Bearer keys, usage (input INCLUDES cached)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.providers.common import SseJsonParser, StreamParser, Usage, as_int, bearer
from semconv.names import PROVIDER_OPENAI

NAME = PROVIDER_OPENAI
CREDENTIAL_ENV = "OTELSPEND_OPENAI_API_KEY"
DEFAULT_UPSTREAM = "https://api.openai.com"
_ERROR_TYPES = {401: "invalid_api_key", 403: "budget_exceeded", 429: "budget_exceeded"}


def client_key(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """Authorization: Bearer (OPENAI_API_KEY); Azure-style api-key as a fallback."""
    return bearer(headers) or headers.get("api-key")


def auth_headers(credential: str) -> dict[str, str]:
    """How the gateway presents the real provider key."""
    return {"Authorization": f"Bearer {credential}"}


def error_body(status: int, message: str) -> dict[str, Any]:
    """The error JSON OpenAI clients parse (`error.message` is what they print)."""
    code = _ERROR_TYPES.get(status)
    kind = "invalid_request_error" if status < 500 else "server_error"
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def usage_of(u: Mapping[str, Any], out: Usage) -> None:
    """Fill `out` from chat (prompt/completion) or responses (input/output) usage."""
    total_in = as_int(u.get("prompt_tokens", u.get("input_tokens")))
    in_details = u.get("prompt_tokens_details") or u.get("input_tokens_details") or {}
    out_details = u.get("completion_tokens_details") or u.get("output_tokens_details") or {}
    cached = as_int(in_details.get("cached_tokens")) if isinstance(in_details, Mapping) else 0
    out.cache_read_tokens = min(cached, total_in)
    out.input_tokens = total_in - out.cache_read_tokens  # OpenAI counts cached inside input
    out.output_tokens = as_int(u.get("completion_tokens", u.get("output_tokens")))
    if isinstance(out_details, Mapping):
        out.reasoning_tokens = min(as_int(out_details.get("reasoning_tokens")), out.output_tokens)
    out.complete = True


def json_usage(body: Any, operation: str) -> Usage | None:
    """Usage of a non-streaming response (GET /v1/models: None)."""
    if not isinstance(body, dict) or operation == "models":
        return None
    usage = Usage(
        response_id=str(body.get("id") or ""), response_model=str(body.get("model") or "")
    )
    u = body.get("usage")
    if isinstance(u, Mapping):
        usage_of(u, usage)
    return usage


class _ChatStream(SseJsonParser):
    """chat.completion.chunk events; usage only on the last chunk when include_usage was set."""

    def on_event(self, obj: Mapping[str, Any]) -> None:
        u = self.usage
        if not u.response_id:
            u.response_id = str(obj.get("id") or "")
            u.response_model = str(obj.get("model") or "")
        for choice in obj.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, Mapping) else None
            if isinstance(delta, Mapping):
                text = delta.get("content") or delta.get("reasoning_content")
                u.output_chars += len(text) if isinstance(text, str) else 0
                u.output_events += 1
        if isinstance(obj.get("usage"), Mapping):
            usage_of(obj["usage"], u)


class _ResponsesStream(SseJsonParser):
    """Responses API events; response.completed (or .incomplete) carries the usage."""

    def on_event(self, obj: Mapping[str, Any]) -> None:
        u = self.usage
        kind = str(obj.get("type") or "")
        if kind.endswith(".delta"):
            delta = obj.get("delta")
            u.output_chars += len(delta) if isinstance(delta, str) else 0
            u.output_events += 1
            return
        resp = obj.get("response")
        if not isinstance(resp, Mapping):
            return
        u.response_id = str(resp.get("id") or u.response_id)
        u.response_model = str(resp.get("model") or u.response_model)
        if isinstance(resp.get("usage"), Mapping):
            usage_of(resp["usage"], u)


def stream_parser(operation: str) -> StreamParser:
    """A parser for a streamed chat or responses answer."""
    return _ResponsesStream(Usage()) if operation == "responses" else _ChatStream(Usage())
