"""OpenInference (Arize Phoenix) LLM and embedding spans.

INPUT-TOKEN INCLUSIVITY: llm.token_count.prompt INCLUDES cached tokens
(llm.token_count.prompt_details.cache_read / cache_write are subsets of it), so uncached
input = prompt - cache_read - cache_write, with the same exclusive fallback as GenAI semconv
when the cache counts exceed the prompt.  Reasoning
(llm.token_count.completion_details.reasoning) is part of the completion count.
llm.cost.total, when present, is the client's own cost estimate.

An LLM span without token counts is a call whose cost is unknown (usage.NO_USAGE: pricing
flags it "no usage reported"), unless its status is ERROR or it names an error.type: a
failed request is billed nothing and is no call.  An EMBEDDING span without counts is no call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from semconv import names as n
from semconv.dialects.common import (
    InvalidCall,
    agent_name,
    ended_in_error,
    service_name,
    session_id,
    text,
    usd,
    user_hints,
)
from semconv.dialects.usage import NO_USAGE, Usage, UsageNames, read_inclusive_usage
from semconv.records import GRANULARITY_CALL, LlmCall, SpanRecord

DIALECT = "openinference"
MISSING_MODEL_REASON = f"missing model: set {n.OI_MODEL_NAME}"

USAGE_NAMES = UsageNames(
    input=(n.OI_PROMPT_TOKENS,),
    output=(n.OI_COMPLETION_TOKENS,),
    cache_read=(n.OI_CACHE_READ_TOKENS,),
    cache_write=(n.OI_CACHE_WRITE_TOKENS,),
    reasoning=(n.OI_REASONING_TOKENS,),
)

# Cheap pre-filter: a span with none of these keys is not an OpenInference model call.
MARKERS = frozenset({n.OI_SPAN_KIND, n.OI_MODEL_NAME, n.OI_PROMPT_TOKENS, n.OI_COMPLETION_TOKENS})


def _operation(attrs: Mapping[str, Any], usage: Usage | None) -> str | None:
    """Return the operation for LLM/EMBEDDING spans; None for chains, agents, tools, etc."""
    kind = attrs.get(n.OI_SPAN_KIND)
    if kind == n.OI_KIND_LLM:
        return n.OP_CHAT
    if kind == n.OI_KIND_EMBEDDING:
        # Embedding spans without counts are common and cannot be priced: not a call.
        return n.OP_EMBEDDINGS if usage is not None else None
    if kind is None and usage is not None and text(attrs, n.OI_MODEL_NAME):
        return ""
    return None


def span_call(span: SpanRecord) -> LlmCall | None:
    """Return the call an OpenInference LLM span describes, None for every other kind."""
    attrs = span.attributes
    kind = attrs.get(n.OI_SPAN_KIND)
    if kind is not None and kind != n.OI_KIND_LLM and kind != n.OI_KIND_EMBEDDING:
        return None  # CHAIN/AGENT/TOOL/...: parents even when they carry token totals
    usage = read_inclusive_usage(attrs, USAGE_NAMES)
    op = _operation(attrs, usage)
    # A failed request that reports no usage is billed nothing by providers: no call either.
    if op is None or (usage is None and ended_in_error(attrs, span.status_code)):
        return None
    model = text(attrs, n.OI_MODEL_NAME, n.OI_EMBEDDING_MODEL_NAME)
    if not model:
        raise InvalidCall(MISSING_MODEL_REASON)
    usage = usage or NO_USAGE
    return LlmCall(
        call_id=f"span:{span.trace_id}:{span.span_id}",
        granularity=GRANULARITY_CALL,
        source="span",
        dialect=DIALECT,
        provider=text(attrs, n.OI_PROVIDER, n.OI_SYSTEM),
        request_model=model,
        response_model="",
        operation=op,
        start_ns=span.start_ns,
        end_ns=span.end_ns,
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        trace_id=span.trace_id,
        span_id=span.span_id,
        session_id=session_id(attrs),
        agent_name=agent_name(attrs, span.resource),
        service_name=service_name(span.resource),
        user_hints=user_hints(attrs, span.resource),
        client_cost_usd=usd(attrs.get(n.OI_COST_TOTAL)),
        extra=usage.extra(),
    )
