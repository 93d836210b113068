"""Gemini generateContent / streamGenerateContent bodies (Gemini API and Vertex AI).

INPUT-TOKEN INCLUSIVITY: usageMetadata.promptTokenCount INCLUDES cachedContentTokenCount (the
semconv rule); toolUsePromptTokenCount is prompt input counted OUTSIDE it and is added.
thoughtsTokenCount is reasoning counted OUTSIDE candidatesTokenCount, so output =
candidates + thoughts and reasoning = thoughts.  Every streamed chunk repeats the cumulative
usageMetadata; the last one wins.  The model comes from the URL (models/{model}:method).
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
    "maxOutputTokens": GEN_AI_REQUEST_MAX_TOKENS,
    "temperature": GEN_AI_REQUEST_TEMPERATURE,
    "topP": GEN_AI_REQUEST_TOP_P,
}


def read_request(facts: CallFacts, body: dict[str, Any], capture: bool) -> None:
    """Fill the request side; the model is the one named in the URL."""
    facts.request_model = facts.endpoint.path_model
    facts.stream = facts.endpoint.streams_by_path
    config = body.get("generationConfig") or body.get("generation_config") or {}
    facts.request_params = params(config, _PARAMS) if isinstance(config, dict) else {}
    if capture:
        facts.input_messages = body.get("contents")


def read_response(facts: CallFacts, body: Any, capture: bool) -> None:
    """Fill facts from one GenerateContentResponse, or a JSON array of streamed ones."""
    for chunk in body if isinstance(body, list) else [body]:
        if isinstance(chunk, dict):
            read_event(facts, "", chunk, capture)


def read_event(facts: CallFacts, name: str, data: dict[str, Any], capture: bool) -> None:
    """Fold one (streamed) GenerateContentResponse into facts."""
    facts.response_model = str(data.get("modelVersion") or facts.response_model)
    facts.response_id = str(data.get("responseId") or facts.response_id)
    for candidate in data.get("candidates") or ():
        if not isinstance(candidate, dict):
            continue
        if isinstance(candidate.get("finishReason"), str):
            facts.finish_reasons = [candidate["finishReason"]]
        if capture:
            for part in (candidate.get("content") or {}).get("parts") or ():
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    facts.output_text.append(part["text"])
    usage = data.get("usageMetadata")
    if isinstance(usage, dict):
        _read_usage(facts, usage)


def _read_usage(facts: CallFacts, usage: dict[str, Any]) -> None:
    prompt = count(usage.get("promptTokenCount")) or 0
    tool_prompt = count(usage.get("toolUsePromptTokenCount")) or 0
    candidates = count(usage.get("candidatesTokenCount")) or 0
    thoughts = count(usage.get("thoughtsTokenCount"))
    facts.input_tokens = prompt + tool_prompt
    facts.output_tokens = candidates + (thoughts or 0)
    facts.reasoning_tokens = thoughts
    facts.cache_read_tokens = count(usage.get("cachedContentTokenCount"))
