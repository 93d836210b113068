"""Turn decoded spans, log records and metric points into canonical LlmCall records.

Pure functions, no I/O.  Each record goes to exactly one dialect: the coding-agent dialects
(Claude Code, Codex, Gemini CLI) are recognised first by their resource or names, then
OpenInference by its llm.* attributes, then OpenLIT and generic GenAI semconv.  A record that
claims to be a model call but cannot be billed (negative, absurd or non-integer token count,
no model) becomes a Rejection with a reason for the client; anything else that is not a call
produces nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from semconv import names as n
from semconv.dialects import claude_code, codex, gemini_cli, genai, openinference, openlit
from semconv.dialects.common import MAX_TOKENS_PER_CALL, InvalidCall, service_name
from semconv.records import (
    GRANULARITY_CALL,
    LlmCall,
    LogRecord,
    MetricPoint,
    NormalizedBatch,
    Rejection,
    SpanRecord,
)

__all__ = ["MAX_TOKENS_PER_CALL", "normalize_logs", "normalize_metrics", "normalize_spans"]

_MAX_ANCESTRY = 64  # bounds the walk up a (possibly cyclic, malformed) parent chain


def normalize_spans(spans: Sequence[SpanRecord]) -> NormalizedBatch:
    """Return the calls the spans describe and the spans refused as unbillable."""
    batch = NormalizedBatch()
    found: list[tuple[LlmCall, SpanRecord]] = []
    agents: dict[tuple[str, str], str] = {}
    for index, span in enumerate(spans):
        agent = span.attributes.get(n.GEN_AI_AGENT_NAME)
        if isinstance(agent, str) and agent:
            agents[(span.trace_id, span.span_id)] = agent
        try:
            call = _span_call(span)
        except InvalidCall as error:
            batch.rejections.append(Rejection(index, str(error)))
            continue
        if call is not None:
            found.append((call, span))
    found = _without_parents(found)
    if agents:
        found = _inherit_agents(spans, found, agents)
    batch.calls = [call for call, _ in found]
    return batch


def normalize_logs(logs: Sequence[LogRecord]) -> NormalizedBatch:
    """Return the calls the log events describe and the records refused as unbillable."""
    batch = NormalizedBatch()
    for index, log in enumerate(logs):
        try:
            call = _log_call(log)
        except InvalidCall as error:
            batch.rejections.append(Rejection(index, str(error)))
            continue
        if call is not None:
            batch.calls.append(call)
    return batch


def normalize_metrics(points: Sequence[MetricPoint]) -> NormalizedBatch:
    """Return AGGREGATE calls built from metric points and the points refused as unbillable."""
    prefix = n.CLAUDE_CODE_PREFIX
    claude = [(i, point) for i, point in enumerate(points) if point.name.startswith(prefix)]
    calls, rejections = claude_code.metric_calls(claude)
    return NormalizedBatch(calls=calls, rejections=rejections)


def _span_call(span: SpanRecord) -> LlmCall | None:
    """Route one span to its dialect; most spans leave after a few dict lookups."""
    service = service_name(span.resource)
    if claude_code.detect(service, span.name):
        return claude_code.span_call(span)
    if codex.detect(service, span.scope_name):
        return codex.span_call(span)
    if service == n.GEMINI_CLI_SERVICE:
        return None  # its logs are the billing source; see gemini_cli.py
    attrs = span.attributes
    if not openinference.MARKERS.isdisjoint(attrs):
        return openinference.span_call(span)
    if genai.MARKERS.isdisjoint(attrs):
        return None
    if openlit.detect(attrs, span.resource):
        return openlit.span_call(span)
    return genai.span_call(span)


def _log_call(log: LogRecord) -> LlmCall | None:
    """Route one log record to its dialect."""
    service = service_name(log.resource)
    body = log.body if isinstance(log.body, str) else ""
    event = log.event_name
    if claude_code.detect(service, body) or event.startswith(n.CLAUDE_CODE_PREFIX):
        return claude_code.log_call(log)
    if codex.detect(service, log.scope_name):
        return codex.log_call(log)
    attrs = log.attributes
    attr_event = attrs.get(n.EVENT_NAME)
    if gemini_cli.detect(service, event) or (
        isinstance(attr_event, str) and attr_event.startswith(n.GEMINI_CLI_PREFIX)
    ):
        return gemini_cli.log_call(log)
    if genai.MARKERS.isdisjoint(attrs):
        return None
    if openlit.detect(attrs, log.resource):
        return openlit.log_call(log, event)
    return genai.log_call(log, event)


def _without_parents(found: list[tuple[LlmCall, SpanRecord]]) -> list[tuple[LlmCall, SpanRecord]]:
    """Drop span calls that have a call among their children: the child is the real call.

    Only children in the same batch are seen; exporters batch by end time, so a parent
    usually travels with its children, but not always.
    """
    parents = {
        (span.trace_id, span.parent_span_id)
        for call, span in found
        if span.parent_span_id and call.granularity == GRANULARITY_CALL
    }
    if not parents:
        return found
    return [
        (call, span)
        for call, span in found
        if call.granularity != GRANULARITY_CALL or (span.trace_id, span.span_id) not in parents
    ]


def _inherit_agents(
    spans: Sequence[SpanRecord],
    found: list[tuple[LlmCall, SpanRecord]],
    agents: dict[tuple[str, str], str],
) -> list[tuple[LlmCall, SpanRecord]]:
    """Give calls without gen_ai.agent.name the name of their nearest agent ancestor."""
    orphans = [i for i, (_, span) in enumerate(found) if n.GEN_AI_AGENT_NAME not in span.attributes]
    if not orphans:
        return found
    parent_of = {(span.trace_id, span.span_id): span.parent_span_id for span in spans}
    for i in orphans:
        call, span = found[i]
        key = (span.trace_id, span.parent_span_id)
        for _ in range(_MAX_ANCESTRY):
            if key in agents:
                found[i] = (call._replace(agent_name=agents[key]), span)
                break
            parent = parent_of.get(key)
            if not parent:
                break
            key = (span.trace_id, parent)
    return found
