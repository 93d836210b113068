"""Generic GenAI semantic conventions: current names, deprecated names and OpenLLMetry's.

INPUT-TOKEN INCLUSIVITY: gen_ai.usage.input_tokens (deprecated: prompt_tokens) INCLUDES
cached tokens, as the semconv spec, OpenAI and Gemini define it, so uncached input =
input - cache_read - cache_write.  When cache_read + cache_write exceed the input, the
inclusive reading is impossible (typically raw Anthropic usage passed through unchanged, most
often with gen_ai.provider.name = anthropic) and the input is taken as already uncached, with
extra["input_rule"] = "exclusive_inferred".  That inference is applied whatever the provider:
the alternative, clamping at zero, would silently drop billable tokens.

A span is a call when its operation is chat / text_completion / generate_content /
embeddings / responses, or when it has no known operation but names a model and reports
usage.  invoke_agent / create_agent / execute_tool / workflow spans only group calls and never
produce one, even when they carry usage totals.

NO USAGE: a call span that reports no token count at all (a stream without usage, an SDK
that does not record it) is a call whose cost is unknown: it is built from usage.NO_USAGE and
pricing flags it "no usage reported", never $0.  A span that ended in error (status ERROR or
error.type) and reports no usage is no call at all: providers bill nothing for a failed
request.  A log event must report usage to be a call.  The semconv's inference-details event
is emitted in the context of its call's span, so when it names that span it gets the span's
call id: the two count once, whichever arrives first (a usage-less span stored first keeps
the call unpriced).

1-HOUR CACHE WRITES: the semconv has no per-TTL split; the 1-hour part of the cache writes is
read from the names real instrumentations use (see semconv.names, CACHE_WRITE_1H_*) and
priced at the 1-hour rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from semconv import names as n
from semconv.dialects.common import (
    InvalidCall,
    agent_name,
    duration_ns,
    ended_in_error,
    service_name,
    session_id,
    stable_id,
    text,
    user_hints,
)
from semconv.dialects.usage import NO_USAGE, Usage, UsageNames, read_inclusive_usage
from semconv.records import GRANULARITY_CALL, LlmCall, LogRecord, SpanRecord

DIALECT = "genai"

USAGE_NAMES = UsageNames(
    input=(n.GEN_AI_USAGE_INPUT_TOKENS, n.GEN_AI_USAGE_PROMPT_TOKENS),
    output=(n.GEN_AI_USAGE_OUTPUT_TOKENS, n.GEN_AI_USAGE_COMPLETION_TOKENS),
    cache_read=(n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, n.OPENLLMETRY_CACHE_READ_INPUT_TOKENS),
    cache_write=(
        n.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
        n.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
        n.OPENLLMETRY_CACHE_CREATION_INPUT_TOKENS,
    ),
    reasoning=(n.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, n.OPENLLMETRY_REASONING_TOKENS),
    cache_write_1h=(n.CACHE_WRITE_1H_OTELSPEND, n.CACHE_WRITE_1H_ARCHESTRA, n.CACHE_WRITE_1H_DASH0),
)
_USAGE_KEYS = USAGE_NAMES.input + USAGE_NAMES.output

# Cheap pre-filter: a record with none of these keys cannot be a GenAI model call.
MARKERS = frozenset(
    {
        n.GEN_AI_OPERATION_NAME,
        n.GEN_AI_REQUEST_MODEL,
        n.GEN_AI_RESPONSE_MODEL,
        *_USAGE_KEYS,
        n.OPENLLMETRY_REQUEST_TYPE,
    }
)


def operation(attrs: Mapping[str, Any]) -> str:
    """Return gen_ai.operation.name, else OpenLLMetry's llm.request.type mapped onto it."""
    op = text(attrs, n.GEN_AI_OPERATION_NAME)
    if op:
        return op
    legacy = text(attrs, n.OPENLLMETRY_REQUEST_TYPE)
    return n.OPENLLMETRY_REQUEST_TYPES.get(legacy, legacy)


def models(attrs: Mapping[str, Any]) -> tuple[str, str]:
    """Return (request model, response model) as sent."""
    return text(attrs, n.GEN_AI_REQUEST_MODEL), text(attrs, n.GEN_AI_RESPONSE_MODEL)


def provider(attrs: Mapping[str, Any]) -> str:
    """Return gen_ai.provider.name, else the deprecated gen_ai.system."""
    return text(attrs, n.GEN_AI_PROVIDER_NAME, n.GEN_AI_SYSTEM)


def call_operation(attrs: Mapping[str, Any]) -> str | None:
    """Return the operation when the attributes describe one model call, else None."""
    op = operation(attrs)
    if op in n.PARENT_OPERATIONS:
        return None
    if op in n.CALL_OPERATIONS:
        return op
    # Unknown or absent operation: bill it only when it names a model and reports usage.
    has_model = any(models(attrs))
    if has_model and any(attrs.get(key) is not None for key in _USAGE_KEYS):
        return op
    return None


def span_call(
    span: SpanRecord, dialect: str = DIALECT, cost: Decimal | None = None
) -> LlmCall | None:
    """Return the call a GenAI span describes, None for parents, non-calls and failed calls."""
    attrs = span.attributes
    op = call_operation(attrs)
    if op is None:
        return None
    usage = read_inclusive_usage(attrs, USAGE_NAMES)
    if usage is None and ended_in_error(attrs, span.status_code):
        return None  # a failed request that reports no usage: providers bill nothing
    return _build(
        attrs,
        span.resource,
        call_id=f"span:{span.trace_id}:{span.span_id}",
        source="span",
        dialect=dialect,
        op=op,
        times=(span.start_ns, span.end_ns),
        ids=(span.trace_id, span.span_id),
        cost=cost,
        usage=usage,
    )


def log_call(
    log: LogRecord, event_name: str, dialect: str = DIALECT, cost: Decimal | None = None
) -> LlmCall | None:
    """Return the call a GenAI log event describes; logs must report usage to count."""
    attrs = log.attributes
    op = operation(attrs)
    if op in n.PARENT_OPERATIONS:
        return None
    usage = read_inclusive_usage(attrs, USAGE_NAMES)
    if usage is None:
        return None  # request-side events (prompt details, errors) carry no usage
    if not (op in n.CALL_OPERATIONS or event_name == n.GEN_AI_INFERENCE_DETAILS_EVENT):
        if not any(models(attrs)):
            return None
    return _build(
        attrs,
        log.resource,
        call_id=_log_call_id(log, event_name, usage),
        source="log",
        dialect=dialect,
        op=op,
        times=log_times(log),
        ids=(log.trace_id, log.span_id),
        cost=cost,
        usage=usage,
    )


def _log_call_id(log: LogRecord, event_name: str, usage: Usage) -> str:
    """Return the id of a log event's call: its span's when it is that span's details event."""
    if event_name == n.GEN_AI_INFERENCE_DETAILS_EVENT and log.trace_id and log.span_id:
        return f"span:{log.trace_id}:{log.span_id}"
    request_model, response_model = models(log.attributes)
    return stable_id(
        "log",
        log.trace_id,
        log.span_id,
        log.time_ns,
        event_name,
        usage.reported_input,
        usage.reported_output,
        usage.cache_read_tokens,
        usage.cache_write_tokens,
        request_model or response_model,
    )


def log_times(log: LogRecord) -> tuple[int, int]:
    """Return (start, end): end is the record time, start backs off duration_ms if given."""
    took = duration_ns(log.attributes.get(n.DURATION_MS))
    end = log.time_ns
    return (end - took if took is not None and took <= end else end), end


def _build(
    attrs: Mapping[str, Any],
    resource: Mapping[str, Any],
    *,
    call_id: str,
    source: str,
    dialect: str,
    op: str,
    times: tuple[int, int],
    ids: tuple[str, str],
    cost: Decimal | None,
    usage: Usage | None,
) -> LlmCall:
    """Assemble the LlmCall; raise InvalidCall when no model is named."""
    request_model, response_model = models(attrs)
    if not (request_model or response_model):
        raise InvalidCall(n.MISSING_MODEL_REASON)
    usage = usage or NO_USAGE
    return LlmCall(
        call_id=call_id,
        granularity=GRANULARITY_CALL,
        source=source,
        dialect=dialect,
        provider=provider(attrs),
        request_model=request_model,
        response_model=response_model,
        operation=op,
        start_ns=times[0],
        end_ns=times[1],
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        cache_write_1h_tokens=usage.cache_write_1h_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        trace_id=ids[0],
        span_id=ids[1],
        session_id=session_id(attrs),
        agent_name=agent_name(attrs, resource),
        service_name=service_name(resource),
        user_hints=user_hints(attrs, resource),
        client_cost_usd=cost,
        extra=usage.extra(),
    )
