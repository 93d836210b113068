"""Codex CLI: response.completed SSE log events (one per call) and turn spans (per turn).

INPUT-TOKEN INCLUSIVITY: OpenAI Responses usage — input_token_count INCLUDES
cached_token_count and cache_write_token_count, so uncached input = input - cached -
cache_write; output_token_count INCLUDES reasoning_token_count.  The turn span's
codex.turn.token_usage.* follow the same rule.

Per-call records come from the 'codex.sse_event' log with event.kind 'response.completed'
and token counts; Codex logs carry no trace ids and a zero record time, so call_id is
"codex:" + hash(conversation.id, event.timestamp, token counts).  The 'session_task.turn'
span is AGGREGATE (billed only while its session has no per-call record); its session id is
the span's string thread.id, which equals the logs' conversation.id.  'handle_responses'
spans carry gen_ai.usage.* but no model: they are Codex internals and produce nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from semconv import names as n
from semconv.dialects.common import (
    InvalidCall,
    agent_name,
    iso_to_ns,
    service_name,
    stable_id,
    text,
    user_hints,
)
from semconv.dialects.genai import log_times
from semconv.dialects.usage import Usage, UsageNames, read_inclusive_usage
from semconv.records import (
    GRANULARITY_AGGREGATE,
    GRANULARITY_CALL,
    LlmCall,
    LogRecord,
    SpanRecord,
)

DIALECT = "codex"
MISSING_MODEL_REASON = f"missing model: set {n.CODEX_MODEL}"

LOG_USAGE = UsageNames(
    input=(n.CODEX_INPUT_TOKEN_COUNT,),
    output=(n.CODEX_OUTPUT_TOKEN_COUNT,),
    cache_read=(n.CODEX_CACHED_TOKEN_COUNT,),
    cache_write=(n.CODEX_CACHE_WRITE_TOKEN_COUNT,),
    reasoning=(n.CODEX_REASONING_TOKEN_COUNT,),
)
TURN_USAGE = UsageNames(
    input=(n.CODEX_TURN_INPUT_TOKENS,),
    output=(n.CODEX_TURN_OUTPUT_TOKENS,),
    cache_read=(n.CODEX_TURN_CACHED_INPUT_TOKENS,),
    cache_write=(n.CODEX_TURN_CACHE_WRITE_INPUT_TOKENS,),
    reasoning=(n.CODEX_TURN_REASONING_OUTPUT_TOKENS,),
)


def detect(service: str, scope_name: str) -> bool:
    """Return True for Codex's resource (codex_exec, codex_tui, ...) or its codex_otel scopes."""
    return service.startswith(n.CODEX_SERVICE_PREFIX) or scope_name.startswith(n.CODEX_SCOPE_PREFIX)


def span_call(span: SpanRecord) -> LlmCall | None:
    """Return the AGGREGATE record of a session_task.turn span; other Codex spans give none."""
    if span.name != n.CODEX_TURN_SPAN:
        return None
    attrs = span.attributes
    usage = read_inclusive_usage(attrs, TURN_USAGE)
    if usage is None:
        return None
    thread = attrs.get(n.CODEX_THREAD_ID)
    session = thread if isinstance(thread, str) else text(attrs, n.CONVERSATION_ID)
    return _call(
        attrs,
        span.resource,
        usage,
        call_id=f"span:{span.trace_id}:{span.span_id}",
        granularity=GRANULARITY_AGGREGATE,
        source="span",
        session=session,
        times=(span.start_ns, span.end_ns),
        ids=(span.trace_id, span.span_id),
    )


def log_call(log: LogRecord) -> LlmCall | None:
    """Return the call of a response.completed SSE event that reports token counts."""
    attrs = log.attributes
    # The record's event_name field holds a Rust source location; the attribute is the name.
    if attrs.get(n.EVENT_NAME) != n.CODEX_SSE_EVENT and log.event_name != n.CODEX_SSE_EVENT:
        return None
    if attrs.get(n.CODEX_EVENT_KIND) != n.CODEX_RESPONSE_COMPLETED:
        return None
    usage = read_inclusive_usage(attrs, LOG_USAGE)
    if usage is None:
        return None  # Codex also sends a response.completed without counts
    session = text(attrs, n.CONVERSATION_ID)
    stamp = text(attrs, n.EVENT_TIMESTAMP)
    start, end = log_times(log)
    if end == 0:
        start = end = iso_to_ns(stamp)
    key = (
        usage.reported_input,
        usage.reported_output,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        usage.reasoning_tokens,
    )
    return _call(
        attrs,
        log.resource,
        usage,
        call_id=stable_id(DIALECT, session, stamp or end, *key),
        granularity=GRANULARITY_CALL,
        source="log",
        session=session,
        times=(start, end),
        ids=(log.trace_id, log.span_id),
    )


def _call(
    attrs: Mapping[str, Any],
    resource: Mapping[str, Any],
    usage: Usage,
    *,
    call_id: str,
    granularity: str,
    source: str,
    session: str,
    times: tuple[int, int],
    ids: tuple[str, str],
) -> LlmCall:
    """Assemble a Codex record; raise InvalidCall when no model is named."""
    model = text(attrs, n.CODEX_MODEL, n.GEN_AI_REQUEST_MODEL)
    if not model:
        raise InvalidCall(MISSING_MODEL_REASON)
    return LlmCall(
        call_id=call_id,
        granularity=granularity,
        source=source,
        dialect=DIALECT,
        provider=n.PROVIDER_OPENAI,
        request_model=model,
        response_model="",
        operation=n.OP_RESPONSES,
        start_ns=times[0],
        end_ns=times[1],
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        trace_id=ids[0],
        span_id=ids[1],
        session_id=session,
        agent_name=agent_name(attrs, resource, n.CODEX_AGENT),
        service_name=service_name(resource),
        user_hints=user_hints(attrs, resource),
        extra=usage.extra(),
    )
