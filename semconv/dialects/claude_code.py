"""Claude Code: llm_request spans, api_request log events, token/cost usage metric points.

INPUT-TOKEN INCLUSIVITY: raw Anthropic usage — input_tokens EXCLUDES cache reads and cache
writes, so input_tokens, cache_read_tokens and cache_creation_tokens are taken as they are.

One call is exported three ways.  The span and the log event both get call_id
"claude_code:" + hash(session.id, end time in ms, input, output, cache read, cache creation):
the log's time is the span's end truncated to milliseconds in the captured fixtures, and the
model is left out of the key because the span's carries a '[1m]' suffix the log's lacks.
A live Claude Code 2.1.197 run (with the beta span exporter, CLAUDE_CODE_ENHANCED_TELEMETRY_BETA)
exported them 16 ms apart, so their ids differ; the store then pairs them on a fingerprint
(store.call_matching: same user, provider and token counts, end times within 10 s, span and
log of one session, one of each per call) and bills the pair once.  A coarser time bucket in
the id was rejected: it merged two real calls of one session with equal token counts, which
pairing one-to-one keeps apart.
Metric points are AGGREGATE: the token.usage and cost.usage points of one (session.id, model,
start, time) merge into one record keyed on those fields.  Only DELTA sums are read: a
cumulative point repeats earlier usage, and summing it would bill it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from semconv import names as n
from semconv.dialects.common import (
    NS_PER_MS,
    InvalidCall,
    agent_name,
    coerce_tokens,
    micro_usd,
    service_name,
    stable_id,
    text,
    tokens,
    usd,
    user_hints,
)
from semconv.dialects.genai import log_times
from semconv.records import (
    GRANULARITY_AGGREGATE,
    GRANULARITY_CALL,
    TEMPORALITY_DELTA,
    LlmCall,
    LogRecord,
    MetricPoint,
    Rejection,
    SpanRecord,
)

DIALECT = "claude_code"
MISSING_MODEL_REASON = f"missing model: set {n.CLAUDE_CODE_MODEL} or {n.GEN_AI_REQUEST_MODEL}"
_API_REQUEST_NAMES = frozenset({n.CLAUDE_CODE_API_REQUEST_EVENT, n.CLAUDE_CODE_API_REQUEST_SHORT})
_COUNT_NAMES = (
    n.CLAUDE_CODE_INPUT_TOKENS,
    n.CLAUDE_CODE_OUTPUT_TOKENS,
    n.CLAUDE_CODE_CACHE_READ_TOKENS,
    n.CLAUDE_CODE_CACHE_CREATION_TOKENS,
)
_TOKEN_TYPES = (
    n.CLAUDE_CODE_TYPE_INPUT,
    n.CLAUDE_CODE_TYPE_OUTPUT,
    n.CLAUDE_CODE_TYPE_CACHE_READ,
    n.CLAUDE_CODE_TYPE_CACHE_CREATION,
)


def detect(service: str, name: str) -> bool:
    """Return True for Claude Code's resource, or a span/event/body named claude_code.*."""
    return service == n.CLAUDE_CODE_SERVICE or name.startswith(n.CLAUDE_CODE_PREFIX)


def span_call(span: SpanRecord) -> LlmCall | None:
    """Return the call of a claude_code.llm_request span; other claude_code spans are parents."""
    if span.name != n.CLAUDE_CODE_LLM_REQUEST_SPAN:
        return None
    return _call(
        span.attributes,
        span.resource,
        "span",
        (span.start_ns, span.end_ns),
        (span.trace_id, span.span_id),
        None,
    )


def log_call(log: LogRecord) -> LlmCall | None:
    """Return the call of a claude_code.api_request event; other events produce nothing."""
    attrs = log.attributes
    if not (
        log.body in _API_REQUEST_NAMES
        or log.event_name in _API_REQUEST_NAMES
        or attrs.get(n.EVENT_NAME) in _API_REQUEST_NAMES
    ):
        return None
    cost = micro_usd(attrs.get(n.CLAUDE_CODE_COST_USD_MICROS))  # exact; the double is not
    if cost is None:
        cost = usd(attrs.get(n.CLAUDE_CODE_COST_USD))
    return _call(attrs, log.resource, "log", log_times(log), (log.trace_id, log.span_id), cost)


def _call(
    attrs: Mapping[str, Any],
    resource: Mapping[str, Any],
    source: str,
    times: tuple[int, int],
    ids: tuple[str, str],
    cost: Decimal | None,
) -> LlmCall | None:
    """Build the per-call record shared by spans and logs; None when no usage is reported."""
    counts = _counts(attrs)
    if counts is None:
        return None  # a failed attempt reports no usage: nothing to bill
    model = text(attrs, n.GEN_AI_REQUEST_MODEL, n.CLAUDE_CODE_MODEL)
    if not model:
        raise InvalidCall(MISSING_MODEL_REASON)
    input_tokens, output, cache_read, cache_write = counts
    session = text(attrs, n.SESSION_ID)
    speed = text(attrs, n.CLAUDE_CODE_SPEED)
    return LlmCall(
        call_id=stable_id(
            DIALECT,
            session,
            times[1] // NS_PER_MS,
            input_tokens,
            output,
            cache_read,
            cache_write,
        ),
        granularity=GRANULARITY_CALL,
        source=source,
        dialect=DIALECT,
        provider=n.PROVIDER_ANTHROPIC,  # fixed: the span says gen_ai.system, the log nothing
        request_model=model,
        response_model=text(attrs, n.GEN_AI_RESPONSE_MODEL),
        operation=n.OP_CHAT,
        start_ns=times[0],
        end_ns=times[1],
        input_tokens=input_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        output_tokens=output,
        trace_id=ids[0],
        span_id=ids[1],
        session_id=session,
        agent_name=agent_name(attrs, resource, n.CLAUDE_CODE_AGENT),
        service_name=service_name(resource),
        user_hints=user_hints(attrs, resource),
        client_cost_usd=cost,
        extra={n.CLAUDE_CODE_SPEED: speed} if speed else {},  # fast mode is priced differently
    )


def _counts(attrs: Mapping[str, Any]) -> tuple[int, int, int, int] | None:
    """Return (input, output, cache read, cache creation), None when none is reported."""
    counts = [tokens(attrs, name) for name in _COUNT_NAMES]
    if all(count is None for count in counts):
        return None
    input_tokens, output, cache_read, cache_write = (count or 0 for count in counts)
    return input_tokens, output, cache_read, cache_write


@dataclass(slots=True)
class _Aggregate:
    """Running sums of the metric points that share one (session, model, start, time)."""

    first: MetricPoint
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TOKEN_TYPES, 0))
    cost: Decimal | None = None


def metric_calls(
    points: Sequence[tuple[int, MetricPoint]],
) -> tuple[list[LlmCall], list[Rejection]]:
    """Merge (input index, point) pairs of claude_code.* metrics into AGGREGATE calls."""
    groups: dict[tuple[str, str, int, int], _Aggregate] = {}
    rejections: list[Rejection] = []
    for index, point in points:
        if point.name not in (n.CLAUDE_CODE_TOKEN_USAGE_METRIC, n.CLAUDE_CODE_COST_USAGE_METRIC):
            continue
        if point.kind != "sum" or point.temporality != TEMPORALITY_DELTA:
            continue
        try:
            _add_point(groups, point)
        except InvalidCall as error:
            rejections.append(Rejection(index, str(error)))
    return [_aggregate_call(key, agg) for key, agg in groups.items()], rejections


def _add_point(groups: dict[tuple[str, str, int, int], _Aggregate], point: MetricPoint) -> None:
    """Fold one point into its group; raise InvalidCall for an unusable point."""
    attrs = point.attributes
    model = text(attrs, n.CLAUDE_CODE_MODEL, n.GEN_AI_REQUEST_MODEL)
    if not model:
        raise InvalidCall(f"missing model: set {n.CLAUDE_CODE_MODEL} on {point.name} points")
    kind, count, amount = "", 0, None
    if point.name == n.CLAUDE_CODE_TOKEN_USAGE_METRIC:
        kind = text(attrs, n.CLAUDE_CODE_TOKEN_TYPE)
        if kind not in _TOKEN_TYPES:
            return  # a token class we do not know cannot be priced; keep the rest
        count = coerce_tokens(f"{point.name} ({n.CLAUDE_CODE_TOKEN_TYPE}={kind})", point.value)
    else:
        amount = usd(point.value)
    key = (text(attrs, n.SESSION_ID), model, point.start_ns, point.time_ns)
    agg = groups.get(key)
    if agg is None:
        agg = groups[key] = _Aggregate(point)
    if kind:
        agg.counts[kind] += count
    elif amount is not None:
        agg.cost = amount if agg.cost is None else agg.cost + amount


def _aggregate_call(key: tuple[str, str, int, int], agg: _Aggregate) -> LlmCall:
    """Build the AGGREGATE record of one metric group."""
    session, model, start_ns, end_ns = key
    attrs, resource = agg.first.attributes, agg.first.resource
    return LlmCall(
        call_id=stable_id("claude_code_metric", *key),
        granularity=GRANULARITY_AGGREGATE,
        source="metric",
        dialect=DIALECT,
        provider=n.PROVIDER_ANTHROPIC,
        request_model=model,
        response_model="",
        operation=n.OP_CHAT,
        start_ns=start_ns,
        end_ns=end_ns,
        input_tokens=agg.counts[n.CLAUDE_CODE_TYPE_INPUT],
        cache_read_tokens=agg.counts[n.CLAUDE_CODE_TYPE_CACHE_READ],
        cache_write_tokens=agg.counts[n.CLAUDE_CODE_TYPE_CACHE_CREATION],
        output_tokens=agg.counts[n.CLAUDE_CODE_TYPE_OUTPUT],
        session_id=session,
        agent_name=agent_name(attrs, resource, n.CLAUDE_CODE_AGENT),
        service_name=service_name(resource),
        user_hints=user_hints(attrs, resource),
        client_cost_usd=agg.cost,
    )
