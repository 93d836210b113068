"""OpenAI Chat Completions, Completions, Embeddings and Responses bodies and streams.

INPUT-TOKEN INCLUSIVITY: OpenAI's prompt_tokens / input_tokens INCLUDE cached tokens
(prompt_tokens_details.cached_tokens / input_tokens_details.cached_tokens), which is the
semconv rule, so counts are copied as they are.  completion_tokens / output_tokens INCLUDE
reasoning tokens.  OpenAI reports no cache writes.

A Chat Completions stream carries usage only when the request set
stream_options.include_usage; without it the span says otelspend.usage.missing.
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
    "max_completion_tokens": GEN_AI_REQUEST_MAX_TOKENS,
    "max_output_tokens": GEN_AI_REQUEST_MAX_TOKENS,
    "temperature": GEN_AI_REQUEST_TEMPERATURE,
    "top_p": GEN_AI_REQUEST_TOP_P,
}


def read_request(facts: CallFacts, body: dict[str, Any], capture: bool) -> None:
    """Fill the request side: model, stream flag, parameters, messages when capturing."""
    facts.request_model = str(body.get("model") or "")
    facts.stream = body.get("stream") is True
    facts.request_params = params(body, _PARAMS)
    if capture:
        facts.input_messages = body.get("messages", body.get("input", body.get("prompt")))


def read_response(facts: CallFacts, body: dict[str, Any], capture: bool) -> None:
    """Fill the response side from a complete JSON body (any of the four APIs)."""
    if body.get("object") == "response":
        _read_response_object(facts, body, capture)
        return
    facts.response_model = str(body.get("model") or "")
    facts.response_id = str(body.get("id") or "")
    for choice in body.get("choices") or ():
        _finish(facts, choice)
        if capture:
            message = choice.get("message") or {}
            text = message.get("content") if message else choice.get("text")
            if isinstance(text, str):
                facts.output_text.append(text)
    _read_usage(facts, body.get("usage"))


def read_event(facts: CallFacts, name: str, data: dict[str, Any], capture: bool) -> None:
    """Fold one streamed event (chat.completion.chunk or a Responses API event) into facts."""
    kind = data.get("type")
    if isinstance(kind, str) and kind.startswith("response."):
        _read_responses_event(facts, kind, data, capture)
        return
    facts.response_model = str(data.get("model") or facts.response_model)
    facts.response_id = str(data.get("id") or facts.response_id)
    for choice in data.get("choices") or ():
        _finish(facts, choice)
        if capture:
            delta = (choice.get("delta") or {}).get("content") or choice.get("text")
            if isinstance(delta, str):
                facts.output_text.append(delta)
    if data.get("usage"):
        _read_usage(facts, data["usage"])


def _read_responses_event(facts: CallFacts, kind: str, data: dict[str, Any], capture: bool) -> None:
    if kind == "response.output_text.delta" and capture:
        delta = data.get("delta")
        if isinstance(delta, str):
            facts.output_text.append(delta)
        return
    response = data.get("response")
    if isinstance(response, dict):
        # completed / incomplete / failed carry the final object; created only ids.
        _read_response_object(facts, response, capture=False)


def _read_response_object(facts: CallFacts, body: dict[str, Any], capture: bool) -> None:
    facts.response_model = str(body.get("model") or facts.response_model)
    facts.response_id = str(body.get("id") or facts.response_id)
    status = body.get("status")
    if status in ("completed", "incomplete", "failed", "cancelled"):
        reason = (body.get("incomplete_details") or {}).get("reason") or status
        facts.finish_reasons = [str(reason)]
    if capture:
        for item in body.get("output") or ():
            for part in item.get("content") or () if isinstance(item, dict) else ():
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    facts.output_text.append(part["text"])
    usage = body.get("usage")
    if isinstance(usage, dict):
        _read_usage(facts, usage)


def _finish(facts: CallFacts, choice: Any) -> None:
    if isinstance(choice, dict) and isinstance(choice.get("finish_reason"), str):
        facts.finish_reasons.append(choice["finish_reason"])


def _read_usage(facts: CallFacts, usage: Any) -> None:
    """Chat/Completions/Embeddings (prompt_/completion_) or Responses (input_/output_) usage."""
    if not isinstance(usage, dict):
        return
    prompt = count(usage.get("prompt_tokens", usage.get("input_tokens")))
    completion = count(usage.get("completion_tokens", usage.get("output_tokens")))
    in_details = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
    out_details = usage.get("completion_tokens_details") or usage.get("output_tokens_details")
    facts.input_tokens = prompt
    facts.output_tokens = completion if completion is not None else (0 if prompt else None)
    facts.cache_read_tokens = count(in_details.get("cached_tokens"))
    facts.reasoning_tokens = count((out_details or {}).get("reasoning_tokens"))
