"""Anthropic Messages API bodies and streams (message_start / message_delta usage).

INPUT-TOKEN INCLUSIVITY: Anthropic's usage.input_tokens EXCLUDES cache reads
(cache_read_input_tokens) and cache writes (cache_creation_input_tokens).  The span follows
the semconv, whose input INCLUDES them, so input = input_tokens + cache read + cache write;
the genai normalizer subtracts them again.  cache_creation.ephemeral_1h_input_tokens (the
1-hour part of the writes) goes to gen_ai.usage.cache_creation.1h.input_tokens.

In a stream, message_start carries the input and cache counts and message_delta the
cumulative output count (newer API versions repeat the input counts there too; the latest
value of each field wins).
"""

from __future__ import annotations

from typing import Any

from semconv.providers import (
    GEN_AI_REQUEST_MAX_TOKENS,
    GEN_AI_REQUEST_TEMPERATURE,
    GEN_AI_REQUEST_TOP_P,
    CallFacts,
    count,
    params,
)

_PARAMS = {
    "max_tokens": GEN_AI_REQUEST_MAX_TOKENS,
    "temperature": GEN_AI_REQUEST_TEMPERATURE,
    "top_p": GEN_AI_REQUEST_TOP_P,
}


class _RawUsage:
    """Anthropic's own counts, kept apart until the call ends (events update them)."""

    __slots__ = ("cache_1h", "cache_read", "cache_write", "input", "output")

    def __init__(self) -> None:
        self.input: int | None = None
        self.output: int | None = None
        self.cache_read: int | None = None
        self.cache_write: int | None = None
        self.cache_1h: int | None = None


def is_request(body: dict[str, Any]) -> bool:
    """A Messages request names a model and carries messages (rules out other /messages APIs)."""
    return bool(body.get("model")) and isinstance(body.get("messages"), list)


def read_request(facts: CallFacts, body: dict[str, Any], capture: bool) -> None:
    """Fill the request side: model, stream flag, parameters, messages when capturing."""
    facts.request_model = str(body.get("model") or "")
    facts.stream = body.get("stream") is True
    facts.request_params = params(body, _PARAMS)
    if capture:
        system = body.get("system")
        facts.input_messages = ([{"role": "system", "content": system}] if system else []) + list(
            body.get("messages") or []
        )


def read_response(facts: CallFacts, body: dict[str, Any], capture: bool) -> None:
    """Fill the response side from a complete Message object."""
    _read_message(facts, body)
    if capture:
        for block in body.get("content") or ():
            if isinstance(block, dict) and isinstance(block.get("text"), str):
                facts.output_text.append(block["text"])
    raw = _RawUsage()
    _merge(raw, body.get("usage"))
    _apply(facts, raw)


def read_event(facts: CallFacts, name: str, data: dict[str, Any], capture: bool) -> None:
    """Fold one streamed event into facts (usage is re-derived after every usage event)."""
    kind = data.get("type") or name
    raw = _raw(facts)
    if kind == "message_start":
        message = data.get("message") or {}
        _read_message(facts, message)
        _merge(raw, message.get("usage"))
    elif kind == "message_delta":
        reason = (data.get("delta") or {}).get("stop_reason")
        if isinstance(reason, str):
            facts.finish_reasons = [reason]
        _merge(raw, data.get("usage"))
    elif kind == "content_block_delta" and capture:
        text = (data.get("delta") or {}).get("text")
        if isinstance(text, str):
            facts.output_text.append(text)
        return
    else:
        return
    _apply(facts, raw)


def _read_message(facts: CallFacts, message: dict[str, Any]) -> None:
    facts.response_model = str(message.get("model") or facts.response_model)
    facts.response_id = str(message.get("id") or facts.response_id)
    if isinstance(message.get("stop_reason"), str):
        facts.finish_reasons = [message["stop_reason"]]


def _raw(facts: CallFacts) -> _RawUsage:
    """The stream's raw usage, kept on the facts between events."""
    raw = facts.state.get("anthropic_usage")
    if not isinstance(raw, _RawUsage):
        raw = _RawUsage()
        facts.state["anthropic_usage"] = raw
    return raw


def _merge(raw: _RawUsage, usage: Any) -> None:
    """Take every count the usage object reports (later events report cumulative values)."""
    if not isinstance(usage, dict):
        return
    for field, key in (
        ("input", "input_tokens"),
        ("output", "output_tokens"),
        ("cache_read", "cache_read_input_tokens"),
        ("cache_write", "cache_creation_input_tokens"),
    ):
        value = count(usage.get(key))
        if value is not None:
            setattr(raw, field, value)
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        one_hour = count(split.get("ephemeral_1h_input_tokens"))
        if one_hour is not None:
            raw.cache_1h = one_hour


def _apply(facts: CallFacts, raw: _RawUsage) -> None:
    """Convert Anthropic's exclusive input into the semconv's inclusive one."""
    if raw.input is None and raw.output is None:
        return
    cache_read, cache_write = raw.cache_read or 0, raw.cache_write or 0
    facts.input_tokens = (raw.input or 0) + cache_read + cache_write
    facts.output_tokens = raw.output or 0
    facts.cache_read_tokens = raw.cache_read
    facts.cache_write_tokens = raw.cache_write
    facts.cache_write_1h_tokens = raw.cache_1h or None
