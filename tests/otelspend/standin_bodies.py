"""Response bodies and SSE event sequences of the stand-in upstream, per provider API.

Shapes follow the public API references (Anthropic Messages, OpenAI Chat Completions and
Responses, Gemini generateContent) closely enough for the official SDKs and the coding CLIs.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Protocol

from tests.otelspend import standin_openai as openai_shapes
from tests.otelspend.standin_openai import pieces

_ids = itertools.count(1)
_GEMINI_PATH = re.compile(r"^/v1(?:beta|alpha)?/models/([^:/]+):(\w+)$")
_MODEL_CALL_KINDS = frozenset(
    {"anthropic", "openai_chat", "openai_responses", "openai_completions", "openai_embeddings"}
)


@dataclass(frozen=True)
class AnthropicUsage:
    """Usage as the Anthropic API reports it: input_tokens EXCLUDES cache reads and writes."""

    input_tokens: int = 1200
    output_tokens: int = 300
    cache_read_input_tokens: int = 5000
    cache_creation_input_tokens: int = 800
    cache_creation_1h_input_tokens: int = 0  # the part of cache_creation written for 1 hour


@dataclass(frozen=True)
class OpenAIUsage:
    """Usage as OpenAI reports it: input INCLUDES cached, output INCLUDES reasoning."""

    input_tokens: int = 1200
    cached_tokens: int = 1000
    output_tokens: int = 300
    reasoning_tokens: int = 100


@dataclass(frozen=True)
class GeminiUsage:
    """Gemini usageMetadata: prompt INCLUDES cached; thoughts are OUTSIDE candidates."""

    prompt_tokens: int = 1200
    cached_tokens: int = 1000
    candidates_tokens: int = 300
    thoughts_tokens: int = 100


class Config(Protocol):
    """What the bodies need from the server (StandinUpstream satisfies it)."""

    anthropic: AnthropicUsage
    openai: OpenAIUsage
    gemini: GeminiUsage
    reply: str


Event = tuple[str | None, "dict[str, Any] | str"]  # (SSE event name, JSON data or a literal)


def route(method: str, path: str) -> tuple[str, str] | None:
    """Return (kind, model named in the path) for a known endpoint, else None."""
    if method == "GET" and path.rstrip("/").endswith("/models"):
        return "openai_models", ""
    if method != "POST":
        return None
    gemini = _GEMINI_PATH.match(path)
    if gemini:
        kind = "gemini_count" if gemini.group(2) == "countTokens" else "gemini"
        return kind, gemini.group(1)
    for suffix, kind in (
        ("/messages/count_tokens", "anthropic_count"),
        ("/messages", "anthropic"),
        ("/chat/completions", "openai_chat"),
        ("/responses", "openai_responses"),
        ("/completions", "openai_completions"),
        ("/embeddings", "openai_embeddings"),
    ):
        if path.endswith(suffix):
            return kind, ""
    return None


def is_model_call(method: str, path: str) -> bool:
    """True for requests a provider bills."""
    found = route(method, path)
    return found is not None and (found[0] in _MODEL_CALL_KINDS or found[0] == "gemini")


def is_text_delta(name: str | None, data: dict[str, Any] | str) -> bool:
    """True for the event that carries the first piece of reply text."""
    if not isinstance(data, dict):
        return False
    kind = data.get("type") or name
    if kind in ("content_block_delta", "response.output_text.delta"):
        return True
    choices = data.get("choices") or data.get("candidates") or []
    return bool(choices) and bool(
        (choices[0].get("delta") or {}).get("content") or choices[0].get("content")
    )


def json_body(kind: str, cfg: Config, model: str, request: dict[str, Any]) -> dict[str, Any]:
    """The non-streaming answer of one endpoint."""
    if kind.startswith("openai"):
        return openai_shapes.json_body(kind, cfg, model, request)
    if kind == "anthropic_count":
        return {"input_tokens": cfg.anthropic.input_tokens}
    if kind == "gemini_count":
        return {"totalTokens": cfg.gemini.prompt_tokens}
    if kind == "anthropic":
        return {
            "id": f"msg_standin{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": cfg.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": anthropic_usage(cfg.anthropic),
        }
    return gemini_chunk(cfg, model, cfg.reply, final=True)


def stream_events(kind: str, cfg: Config, model: str, request: dict[str, Any]) -> list[Event]:
    """The SSE events of a streaming answer."""
    if kind == "anthropic":
        return anthropic_events(cfg, model)
    if kind == "openai_responses":
        return openai_shapes.responses_events(cfg, model)
    if kind in ("openai_chat", "openai_completions"):
        options = request.get("stream_options") or {}
        return openai_shapes.chat_events(cfg, model, bool(options.get("include_usage")))
    return [(None, json_body(kind, cfg, model, request))]


def anthropic_usage(u: AnthropicUsage) -> dict[str, Any]:
    """Anthropic's usage object, with the 5 min / 1 h split of cache writes."""
    return {
        "input_tokens": u.input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_creation_input_tokens
            - u.cache_creation_1h_input_tokens,
            "ephemeral_1h_input_tokens": u.cache_creation_1h_input_tokens,
        },
        "output_tokens": u.output_tokens,
        "service_tier": "standard",
    }


def anthropic_events(cfg: Config, model: str) -> list[Event]:
    """message_start (input and cache usage) ... message_delta (output usage) ... stop."""
    usage = anthropic_usage(cfg.anthropic)
    start_usage = {**usage, "output_tokens": 1}
    message = {
        "id": f"msg_standin{next(_ids)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": start_usage,
    }
    events: list[Event] = [
        ("message_start", {"type": "message_start", "message": message}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    for piece in pieces(cfg.reply):
        delta = {"type": "text_delta", "text": piece}
        events.append(
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": cfg.anthropic.output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def gemini_chunk(cfg: Config, model: str, text: str, *, final: bool) -> dict[str, Any]:
    """One GenerateContentResponse; usageMetadata is complete on the final chunk."""
    u = cfg.gemini
    candidate: dict[str, Any] = {
        "content": {"role": "model", "parts": [{"text": text}]},
        "index": 0,
    }
    if final:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": {
            "promptTokenCount": u.prompt_tokens,
            "candidatesTokenCount": u.candidates_tokens if final else 1,
            "cachedContentTokenCount": u.cached_tokens,
            "thoughtsTokenCount": u.thoughts_tokens,
            "totalTokenCount": u.prompt_tokens + u.candidates_tokens + u.thoughts_tokens,
        },
        "modelVersion": model,
        "responseId": f"gemini-standin{next(_ids)}",
    }


def gemini_events(cfg: Config, model: str) -> list[Event]:
    """streamGenerateContent?alt=sse: one chunk per piece of text, usage final on the last."""
    parts = pieces(cfg.reply)
    return [
        (None, gemini_chunk(cfg, model, piece, final=i == len(parts) - 1))
        for i, piece in enumerate(parts)
    ]
