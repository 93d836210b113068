"""Gemini CLI: gemini_cli.api_response log events and the GenAI semconv details event.

INPUT-TOKEN INCLUSIVITY: Gemini usage — input_token_count (promptTokenCount) INCLUDES
cached_content_token_count, so uncached input = input - cached.  thoughts_token_count is
reasoning, which Gemini counts OUTSIDE output_token_count (candidatesTokenCount; the API's
total = prompt + candidates + thoughts + tool-use prompt), so output = output + thoughts and
reasoning = thoughts.  tool_token_count (toolUsePromptTokenCount) is prompt input counted
outside input_token_count: it is added to uncached input only when total_token_count
confirms that (total == input + output + thoughts + tool), since older clients differ.

For every response gemini-cli emits api_response and then a
'gen_ai.client.inference.operation.details' event built from the same object: both carry
the same event.timestamp, session.id, prompt count (gen_ai.usage.input_tokens) and
candidates count (gen_ai.usage.output_tokens).  Both get call_id
"gemini_cli:" + hash(session.id, event.timestamp, input, output), so they count once.  The
details event has no cache or thoughts breakdown; its record says
extra["usage_breakdown"] = "partial", and since api_response is emitted first, the first
record stored for the id is normally the complete one.  Gemini CLI spans (developer tracing)
produce nothing: its logs are the billing source and a span would bill the call twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from semconv import names as n
from semconv.dialects import genai
from semconv.dialects.common import (
    NS_PER_MS,
    InvalidCall,
    agent_name,
    service_name,
    split_inclusive_input,
    stable_id,
    text,
    tokens,
    user_hints,
)
from semconv.dialects.usage import Usage, read_inclusive_usage
from semconv.records import GRANULARITY_CALL, LlmCall, LogRecord

DIALECT = "gemini_cli"
USAGE_BREAKDOWN_KEY = "usage_breakdown"
PARTIAL = "partial"
_EVENTS = frozenset({n.GEMINI_CLI_API_RESPONSE_EVENT, n.GEN_AI_INFERENCE_DETAILS_EVENT})


def detect(service: str, event_name: str) -> bool:
    """Return True for gemini-cli's resource or an event named gemini_cli.*."""
    return service == n.GEMINI_CLI_SERVICE or event_name.startswith(n.GEMINI_CLI_PREFIX)


def log_call(log: LogRecord) -> LlmCall | None:
    """Return the call of an api_response or inference-details event; others give none."""
    name = log.event_name
    if name not in _EVENTS:
        name = text(log.attributes, n.EVENT_NAME)
    if name == n.GEMINI_CLI_API_RESPONSE_EVENT:
        usage = _api_response_usage(log.attributes)
        model = text(log.attributes, n.GEMINI_CLI_MODEL, n.GEN_AI_RESPONSE_MODEL)
        extra = usage.extra() if usage else {}
    elif name == n.GEN_AI_INFERENCE_DETAILS_EVENT:
        usage = read_inclusive_usage(log.attributes, genai.USAGE_NAMES)
        model = text(log.attributes, n.GEN_AI_RESPONSE_MODEL, n.GEN_AI_REQUEST_MODEL)
        extra = {**usage.extra(), USAGE_BREAKDOWN_KEY: PARTIAL} if usage else {}
    else:
        return None
    if usage is None:
        return None  # request and error events carry no usage
    if not model:
        raise InvalidCall(f"missing model: set {n.GEMINI_CLI_MODEL} or {n.GEN_AI_REQUEST_MODEL}")
    return _call(log, usage, model, extra)


def _api_response_usage(attrs: Mapping[str, Any]) -> Usage | None:
    """Return the canonical usage of an api_response event (None when it has no counts)."""
    raw_input = tokens(attrs, n.GEMINI_CLI_INPUT_TOKEN_COUNT)
    raw_output = tokens(attrs, n.GEMINI_CLI_OUTPUT_TOKEN_COUNT)
    if raw_input is None and raw_output is None:
        return None
    cached = tokens(attrs, n.GEMINI_CLI_CACHED_CONTENT_TOKEN_COUNT) or 0
    thoughts = tokens(attrs, n.GEMINI_CLI_THOUGHTS_TOKEN_COUNT) or 0
    tool = tokens(attrs, n.GEMINI_CLI_TOOL_TOKEN_COUNT) or 0
    total = tokens(attrs, n.GEMINI_CLI_TOTAL_TOKEN_COUNT)
    prompt, candidates = raw_input or 0, raw_output or 0
    uncached, exclusive = split_inclusive_input(prompt, cached, 0)
    if tool and total == prompt + candidates + thoughts + tool:
        uncached += tool
    return Usage(
        input_tokens=uncached,
        cache_read_tokens=cached,
        output_tokens=candidates + thoughts,
        reasoning_tokens=thoughts,
        reported_input=prompt,
        reported_output=candidates,
        inferred_exclusive=exclusive,
    )


def _call(log: LogRecord, usage: Usage, model: str, extra: dict[str, Any]) -> LlmCall:
    """Assemble the record; the id ignores everything the two event kinds do not share."""
    attrs = log.attributes
    session = text(attrs, n.SESSION_ID, n.GEN_AI_CONVERSATION_ID)
    stamp = text(attrs, n.EVENT_TIMESTAMP) or log.time_ns // NS_PER_MS
    start, end = genai.log_times(log)
    return LlmCall(
        call_id=stable_id(DIALECT, session, stamp, usage.reported_input, usage.reported_output),
        granularity=GRANULARITY_CALL,
        source="log",
        dialect=DIALECT,
        provider=n.PROVIDER_GOOGLE,
        request_model=model,
        response_model="",
        operation=n.OP_GENERATE_CONTENT,
        start_ns=start,
        end_ns=end,
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        trace_id=log.trace_id,
        span_id=log.span_id,
        session_id=session,
        agent_name=agent_name(attrs, log.resource, n.GEMINI_CLI_AGENT),
        service_name=service_name(log.resource),
        user_hints=user_hints(attrs, log.resource),
        extra=extra,
    )
