"""Response bodies and SSE event sequences of the stand-in upstream, per provider API.

Shapes follow the public API references (Anthropic Messages, OpenAI Chat Completions and
Responses, Gemini generateContent) closely enough for the official SDKs and the coding CLIs.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

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


Event = tuple[str | None, "dict[str, Any] | str"]


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
    n = next(_ids)
    if kind == "anthropic":
        return {
            "id": f"msg_standin{n}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": cfg.reply}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": anthropic_usage(cfg.anthropic),
        }
    if kind == "anthropic_count":
        return {"input_tokens": cfg.anthropic.input_tokens}
    if kind == "openai_chat" and getattr(cfg, "tool_calls", False) and _wants_tool(request):
        return chat_tool_call(cfg, model, request)
    if kind == "openai_chat":
        return {
            "id": f"chatcmpl-standin{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": cfg.reply, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": chat_usage(cfg.openai),
        }
    if kind == "openai_responses":
        return response_object(cfg, model, f"resp_standin{n}", "completed")
    if kind == "openai_completions":
        usage = chat_usage(cfg.openai)
        return {
            "id": f"cmpl-standin{n}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "text": cfg.reply, "finish_reason": "stop", "logprobs": None}],
            "usage": usage,
        }
    if kind == "openai_embeddings":
        inputs = request.get("input")
        count = len(inputs) if isinstance(inputs, list) else 1
        return {
            "object": "list",
            "data": [
                {"object": "embedding", "index": i, "embedding": [0.0, 0.5, 1.0]}
                for i in range(count)
            ],
            "model": model,
            "usage": {
                "prompt_tokens": cfg.openai.input_tokens,
                "total_tokens": cfg.openai.input_tokens,
            },
        }
    if kind == "openai_models":
        return {"object": "list", "data": [{"id": "gpt-5.1", "object": "model", "owned_by": "x"}]}
    if kind == "gemini_count":
        return {"totalTokens": cfg.gemini.prompt_tokens}
    return gemini_chunk(cfg, model, cfg.reply, final=True)


def _wants_tool(request: dict[str, Any]) -> bool:
    """An agent turn: tools are offered and the last message is not a tool result yet."""
    messages = request.get("messages") or [{}]
    return bool(request.get("tools")) and messages[-1].get("role") != "tool"


def chat_tool_call(cfg: Config, model: str, request: dict[str, Any]) -> dict[str, Any]:
    """Ask for the first offered tool, with arguments that satisfy its required parameters."""
    function = request["tools"][0].get("function") or {}
    schema = function.get("parameters") or {}
    samples = {"string": "x", "integer": 1, "number": 1, "boolean": True}
    args = {
        name: samples.get((schema.get("properties") or {}).get(name, {}).get("type"), "x")
        for name in schema.get("required") or []
    }
    call = {
        "id": f"call_standin{next(_ids)}",
        "type": "function",
        "function": {"name": function.get("name", "tool"), "arguments": json.dumps(args)},
    }
    return {
        "id": f"chatcmpl-standin{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": chat_usage(cfg.openai),
    }


def stream_events(kind: str, cfg: Config, model: str, request: dict[str, Any]) -> list[Event]:
    """The SSE events of a streaming answer."""
    if kind == "anthropic":
        return anthropic_events(cfg, model)
    if kind == "openai_responses":
        return responses_events(cfg, model)
    if kind in ("openai_chat", "openai_completions"):
        options = request.get("stream_options") or {}
        return chat_events(cfg, model, bool(options.get("include_usage")))
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
    for piece in _pieces(cfg.reply):
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


def chat_usage(u: OpenAIUsage) -> dict[str, Any]:
    """Chat Completions usage (prompt includes cached, completion includes reasoning)."""
    return {
        "prompt_tokens": u.input_tokens,
        "completion_tokens": u.output_tokens,
        "total_tokens": u.input_tokens + u.output_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens, "audio_tokens": 0},
    }


def chat_events(cfg: Config, model: str, include_usage: bool) -> list[Event]:
    """chat.completion.chunk events; the usage chunk only when the client asked for it."""
    base = {
        "id": f"chatcmpl-standin{next(_ids)}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events: list[Event] = [(None, chunk({"role": "assistant", "content": ""}, None))]
    events += [(None, chunk({"content": piece}, None)) for piece in _pieces(cfg.reply)]
    events.append((None, chunk({}, "stop")))
    if include_usage:
        events.append((None, {**base, "choices": [], "usage": chat_usage(cfg.openai)}))
    events.append((None, "[DONE]"))
    return events


def response_object(cfg: Config, model: str, rid: str, status: str) -> dict[str, Any]:
    """A Responses API `response` object (usage only once completed)."""
    u = cfg.openai
    done = status == "completed"
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": [_message_item(cfg.reply)] if done else [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": u.input_tokens,
            "input_tokens_details": {"cached_tokens": u.cached_tokens},
            "output_tokens": u.output_tokens,
            "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
            "total_tokens": u.input_tokens + u.output_tokens,
        }
        if done
        else None,
    }


def _message_item(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_standin_item",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def responses_events(cfg: Config, model: str) -> list[Event]:
    """response.created ... output_text.delta ... response.completed (with usage)."""
    rid = f"resp_standin{next(_ids)}"
    seq = itertools.count()
    item = _message_item("")
    item["status"] = "in_progress"
    item["content"] = []
    part = {"type": "output_text", "text": "", "annotations": []}
    pos = {"item_id": item["id"], "output_index": 0, "content_index": 0}

    def ev(kind: str, **data: Any) -> Event:
        return kind, {"type": kind, "sequence_number": next(seq), **data}

    events = [
        ev("response.created", response=response_object(cfg, model, rid, "in_progress")),
        ev("response.in_progress", response=response_object(cfg, model, rid, "in_progress")),
        ev("response.output_item.added", output_index=0, item=item),
        ev("response.content_part.added", part=part, **pos),
    ]
    events += [ev("response.output_text.delta", delta=p, **pos) for p in _pieces(cfg.reply)]
    events += [
        ev("response.output_text.done", text=cfg.reply, **pos),
        ev("response.content_part.done", part={**part, "text": cfg.reply}, **pos),
        ev("response.output_item.done", output_index=0, item=_message_item(cfg.reply)),
        ev("response.completed", response=response_object(cfg, model, rid, "completed")),
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
    pieces = _pieces(cfg.reply)
    return [
        (None, gemini_chunk(cfg, model, piece, final=i == len(pieces) - 1))
        for i, piece in enumerate(pieces)
    ]


def _pieces(text: str) -> list[str]:
    """Split the reply into a few stream deltas (at least one)."""
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)] or [""]
