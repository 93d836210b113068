"""What one model API call reported, read from its HTTP request and response bodies.

Agent-side only: the httpx hooks (semconv.httpx_hooks) recognise an OpenAI, Anthropic or
Gemini endpoint with `match_endpoint`, fill a `CallFacts` from the request JSON, then from the
response JSON or, for a stream, event by event, and turn it into GenAI semantic-convention
span attributes.  The provider modules are pure functions over parsed JSON.

INPUT-TOKEN INCLUSIVITY: `CallFacts.input_tokens` follows the GenAI semconv: it INCLUDES cache
reads and cache writes.  Each provider module converts its API's counts into that rule
(raw Anthropic usage excludes cache, so anthropic.py adds it; OpenAI and Gemini include it).
`output_tokens` INCLUDES reasoning (Gemini reports thoughts outside candidates: added).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from semconv import names as n

# Span attributes the GenAI semconv defines beyond what semconv.names lists for normalizers.
GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature"
GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p"
GEN_AI_REQUEST_STREAM = "gen_ai.request.stream"
GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"
GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages"
GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages"
TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk"
SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"
ERROR_TYPE = "error.type"
# Not in the semconv: Anthropic's 1-hour cache writes (a part of cache_creation) and our notes.
CACHE_WRITE_1H_TOKENS = "gen_ai.usage.cache_creation.1h.input_tokens"
USAGE_MISSING = "otelspend.usage.missing"
STREAM_INCOMPLETE = "otelspend.stream.incomplete"

PROVIDER_GEMINI = "gcp.gemini"
PROVIDER_VERTEX = "gcp.vertex_ai"
_MAX_CONTENT_CHARS = 64 * 1024  # captured prompt/completion text per span, when enabled
_GEMINI_METHOD = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)$")
_OPENAI_PATHS = (
    ("/chat/completions", n.OP_CHAT),
    ("/responses", n.OP_CHAT),
    ("/completions", n.OP_TEXT_COMPLETION),
    ("/embeddings", n.OP_EMBEDDINGS),
)
# OpenAI-compatible hosts whose provider is not OpenAI itself (gen_ai.provider.name values).
_COMPATIBLE_HOSTS = (
    ("openai.azure.com", "azure.ai.openai"),
    ("groq.com", "groq"),
    ("deepseek.com", "deepseek"),
    ("x.ai", "x_ai"),
    ("mistral.ai", "mistral_ai"),
    ("perplexity.ai", "perplexity"),
    ("openrouter.ai", "openrouter"),
    ("together.xyz", "together_ai"),
    ("fireworks.ai", "fireworks_ai"),
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A recognised model-API endpoint: which dialect parses it and what operation it is."""

    api: str  # "openai" | "openai_responses" | "anthropic" | "gemini"
    provider: str  # gen_ai.provider.name
    operation: str  # gen_ai.operation.name
    path_model: str = ""  # Gemini names the model in the URL
    streams_by_path: bool = False  # Gemini's :streamGenerateContent


@dataclass(slots=True)
class CallFacts:
    """Everything observed about one call; attributes() renders it as GenAI span attributes."""

    endpoint: Endpoint
    request_model: str = ""
    stream: bool = False
    request_params: dict[str, Any] = field(default_factory=dict)
    response_model: str = ""
    response_id: str = ""
    finish_reasons: list[str] = field(default_factory=list)
    input_tokens: int | None = None  # INCLUDES cache read and write
    output_tokens: int | None = None  # INCLUDES reasoning
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cache_write_1h_tokens: int | None = None
    reasoning_tokens: int | None = None
    input_messages: Any = None  # only when content capture is on
    output_text: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # a provider's parsing state

    def start_attributes(self) -> dict[str, Any]:
        """Attributes known when the request leaves (sampling decisions can use them)."""
        attrs: dict[str, Any] = {
            n.GEN_AI_OPERATION_NAME: self.endpoint.operation,
            n.GEN_AI_PROVIDER_NAME: self.endpoint.provider,
            GEN_AI_REQUEST_STREAM: self.stream,
        }
        if self.request_model:
            attrs[n.GEN_AI_REQUEST_MODEL] = self.request_model
        attrs.update(self.request_params)
        if self.input_messages is not None:
            attrs[GEN_AI_INPUT_MESSAGES] = _clip(json.dumps(self.input_messages, default=str))
        return attrs

    def end_attributes(self) -> dict[str, Any]:
        """Attributes known once the response has been read."""
        attrs: dict[str, Any] = {}
        if self.response_model:
            attrs[n.GEN_AI_RESPONSE_MODEL] = self.response_model
        if self.response_id:
            attrs[n.GEN_AI_RESPONSE_ID] = self.response_id
        if self.finish_reasons:
            attrs[GEN_AI_RESPONSE_FINISH_REASONS] = list(self.finish_reasons)
        for name, value in (
            (n.GEN_AI_USAGE_INPUT_TOKENS, self.input_tokens),
            (n.GEN_AI_USAGE_OUTPUT_TOKENS, self.output_tokens),
            (n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, self.cache_read_tokens),
            (n.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, self.cache_write_tokens),
            (CACHE_WRITE_1H_TOKENS, self.cache_write_1h_tokens),
            (n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, self.reasoning_tokens),
        ):
            if value is not None:
                attrs[name] = value
        if self.input_tokens is None and self.output_tokens is None:
            attrs[USAGE_MISSING] = True
        if self.output_text:
            part = {"type": "text", "content": _clip("".join(self.output_text))}
            message = {"role": "assistant", "parts": [part]}
            attrs[GEN_AI_OUTPUT_MESSAGES] = json.dumps([message])
        return attrs


def match_endpoint(method: str, host: str, path: str) -> Endpoint | None:
    """Return the endpoint a POST to `path` on `host` calls, None when it is no model call."""
    if method.upper() != "POST":
        return None
    gemini = _GEMINI_METHOD.search(path)
    if gemini:
        provider = PROVIDER_VERTEX if "aiplatform" in host else PROVIDER_GEMINI
        streams = gemini.group(2) == "streamGenerateContent"
        return Endpoint("gemini", provider, n.OP_GENERATE_CONTENT, gemini.group(1), streams)
    if path.endswith("/messages"):
        return Endpoint("anthropic", n.PROVIDER_ANTHROPIC, n.OP_CHAT)
    for suffix, operation in _OPENAI_PATHS:
        if path.endswith(suffix):
            api = "openai_responses" if suffix == "/responses" else "openai"
            return Endpoint(api, _openai_provider(host), operation)
    return None


def parser_for(endpoint: Endpoint) -> Any:
    """The module that parses this endpoint's bodies and events (openai, anthropic, gemini)."""
    from semconv.providers import anthropic, gemini, openai  # they import this module

    return {"anthropic": anthropic, "gemini": gemini}.get(endpoint.api, openai)


def _openai_provider(host: str) -> str:
    """gen_ai.provider.name of an OpenAI-compatible host (OpenAI itself by default)."""
    host = host.lower()
    for suffix, provider in _COMPATIBLE_HOSTS:
        if host == suffix or host.endswith("." + suffix):
            return provider
    return n.PROVIDER_OPENAI


def count(value: Any) -> int | None:
    """Return a token count from JSON (None for anything that is not a non-negative int)."""
    if type(value) is int and value >= 0:
        return value
    return None


def params(body: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Copy numeric request parameters (JSON name -> attribute name) that are present."""
    out: dict[str, Any] = {}
    for key, attr in names.items():
        value = body.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[attr] = value
    return out


def _clip(text: str) -> str:
    """Bound captured content so one call cannot produce a huge span."""
    return text if len(text) <= _MAX_CONTENT_CHARS else text[:_MAX_CONTENT_CHARS] + "…"
