"""OpenAI-shaped answers of the stand-in upstream: Chat Completions, Responses, Embeddings."""

from __future__ import annotations

import itertools
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.otelspend.standin_bodies import Config, Event, OpenAIUsage

_ids = itertools.count(1)


def json_body(kind: str, cfg: Config, model: str, request: dict[str, Any]) -> dict[str, Any]:
    """The non-streaming answer of an OpenAI endpoint."""
    if kind == "openai_models":
        return {"object": "list", "data": [{"id": "gpt-5.1", "object": "model", "owned_by": "x"}]}
    if kind == "openai_responses":
        return response_object(cfg, model, f"resp_standin{next(_ids)}", "completed")
    if kind == "openai_embeddings":
        return embeddings_body(cfg, model, request)
    if kind == "openai_chat" and getattr(cfg, "tool_calls", False) and _wants_tool(request):
        return chat_tool_call(cfg, model, request)
    if kind == "openai_chat":
        message = {"role": "assistant", "content": cfg.reply, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        return _completion(model, "chat.completion", choice, chat_usage(cfg.openai))
    choice = {"index": 0, "text": cfg.reply, "finish_reason": "stop", "logprobs": None}
    return _completion(model, "text_completion", choice, chat_usage(cfg.openai))


def _completion(model: str, kind: str, choice: dict[str, Any], usage: Any) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-standin{next(_ids)}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": [choice],
        "usage": usage,
    }


def embeddings_body(cfg: Config, model: str, request: dict[str, Any]) -> dict[str, Any]:
    """One small vector per input; usage has no output side."""
    inputs = request.get("input")
    count = len(inputs) if isinstance(inputs, list) else 1
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": [0.0, 0.5, 1.0]} for i in range(count)
        ],
        "model": model,
        "usage": {
            "prompt_tokens": cfg.openai.input_tokens,
            "total_tokens": cfg.openai.input_tokens,
        },
    }


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
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls"}
    return _completion(model, "chat.completion", choice, chat_usage(cfg.openai))


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
    events += [(None, chunk({"content": piece}, None)) for piece in pieces(cfg.reply)]
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
    events += [ev("response.output_text.delta", delta=p, **pos) for p in pieces(cfg.reply)]
    events += [
        ev("response.output_text.done", text=cfg.reply, **pos),
        ev("response.content_part.done", part={**part, "text": cfg.reply}, **pos),
        ev("response.output_item.done", output_index=0, item=_message_item(cfg.reply)),
        ev("response.completed", response=response_object(cfg, model, rid, "completed")),
    ]
    return events


def pieces(text: str) -> list[str]:
    """Split the reply into a few stream deltas (at least one)."""
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)] or [""]
