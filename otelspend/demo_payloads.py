"""OTLP payloads of the demo's agents, shaped like what each real client exports.

- claude-code: `claude_code.interaction` → `claude_code.llm_request` (+ `claude_code.tool`)
  spans, Anthropic usage (input excludes cache);
- codex: a `session_task.turn` span, `handle_responses` / tool spans, and one
  `codex.sse_event` (response.completed) log per call — the billing source;
- gemini-cli: spans for the waterfall, `gemini_cli.api_response` logs as billing source;
- support-bot (a Python agent on the GenAI semantic conventions): `invoke_agent` →
  `chat` / `execute_tool` spans, with `gen_ai.evaluation.result` events on the root.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

NS_PER_MS = 1_000_000
RESOURCES = {  # agent -> (resource attributes, instrumentation scope)
    "claude-code": (
        {"service.name": "claude-code", "service.version": "2.1.197"},
        "com.anthropic.claude_code",
    ),  # noqa: E501
    "codex": ({"service.name": "codex_exec", "service.version": "0.169.0"}, "codex_otel"),
    "gemini-cli": ({"service.name": "gemini-cli", "service.version": "0.20.0"}, "gemini-cli"),
    "support-bot": (
        {"service.name": "support-bot", "telemetry.sdk.language": "python"},
        "support_bot.agent",
    ),  # noqa: E501
    "evaluator": ({"service.name": "ci-evaluator"}, "evals"),
}


def kv(key: str, value: Any) -> KeyValue:
    """One OTLP attribute."""
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


@dataclass(frozen=True, slots=True)
class Usage:
    """One model call's usage as the provider reports it (input excludes cache here)."""

    model: str
    uncached: int
    cache_read: int
    cache_write: int
    output: int
    reasoning: int = 0


@dataclass
class Batch:
    """Spans and logs of one agent for one key, ready to encode."""

    agent: str
    spans: list[Span] = field(default_factory=list)
    logs: list[LogRecord] = field(default_factory=list)


def span(
    ids: tuple[bytes, bytes, bytes],
    name: str,
    t: tuple[int, int],
    attrs: dict[str, Any],
    *,
    error: str = "",
    events: Sequence[Span.Event] = (),
) -> Span:
    """A span (ids: trace, span, parent)."""
    status = Status(code=Status.STATUS_CODE_ERROR, message=error) if error else Status()
    return Span(
        trace_id=ids[0],
        span_id=ids[1],
        parent_span_id=ids[2],
        name=name,
        kind=Span.SPAN_KIND_INTERNAL,
        start_time_unix_nano=t[0],
        end_time_unix_nano=t[1],
        attributes=[kv(k, v) for k, v in attrs.items()],
        status=status,
        events=list(events),
    )


def log(ids: tuple[bytes, bytes], at_ns: int, event: str, attrs: dict[str, Any]) -> LogRecord:
    """A log event with trace context."""
    return LogRecord(
        time_unix_nano=at_ns,
        observed_time_unix_nano=at_ns,
        event_name=event,
        trace_id=ids[0],
        span_id=ids[1],
        body=AnyValue(string_value=event),
        attributes=[kv("event.name", event), *(kv(k, v) for k, v in attrs.items())],
    )


def iso(ns: int) -> str:
    """event.timestamp as the CLIs write it."""
    return (
        datetime.fromtimestamp(ns / 1e9, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def claude_call(
    ids: tuple[bytes, bytes, bytes], t: tuple[int, int], u: Usage, session: str
) -> Span:
    """A claude_code.llm_request span."""
    return span(
        ids,
        "claude_code.llm_request",
        t,
        {
            "session.id": session,
            "span.type": "llm_request",
            "model": u.model,
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": u.model,
            "input_tokens": u.uncached,
            "output_tokens": u.output,
            "cache_read_tokens": u.cache_read,
            "cache_creation_tokens": u.cache_write,
            "duration_ms": (t[1] - t[0]) // NS_PER_MS,
            "success": True,
            "attempt": 1,
        },
    )


def codex_log(ids: tuple[bytes, bytes], at_ns: int, u: Usage, session: str) -> LogRecord:
    """A codex.sse_event response.completed (input INCLUDES cached tokens)."""
    return log(
        ids,
        at_ns,
        "codex.sse_event",
        {
            "event.kind": "response.completed",
            "conversation.id": session,
            "model": u.model,
            "input_token_count": u.uncached + u.cache_read,
            "cached_token_count": u.cache_read,
            "output_token_count": u.output,
            "reasoning_token_count": u.reasoning,
            "event.timestamp": iso(at_ns),
        },
    )


def gemini_log(ids: tuple[bytes, bytes], at_ns: int, u: Usage, session: str) -> LogRecord:
    """A gemini_cli.api_response (input includes cached; thoughts outside output)."""
    prompt, out = u.uncached + u.cache_read, u.output - u.reasoning
    return log(
        ids,
        at_ns,
        "gemini_cli.api_response",
        {
            "session.id": session,
            "model": u.model,
            "input_token_count": prompt,
            "output_token_count": out,
            "cached_content_token_count": u.cache_read,
            "thoughts_token_count": u.reasoning,
            "total_token_count": prompt + out + u.reasoning,
            "event.timestamp": iso(at_ns),
            "duration_ms": 900,
        },
    )


def genai_call(
    ids: tuple[bytes, bytes, bytes], t: tuple[int, int], u: Usage, provider: str
) -> Span:
    """A GenAI semconv `chat` span (input INCLUDES cached tokens)."""
    return span(
        ids,
        f"chat {u.model}",
        t,
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider,
            "gen_ai.request.model": u.model,
            "gen_ai.response.model": u.model,
            "gen_ai.usage.input_tokens": u.uncached + u.cache_read,
            "gen_ai.usage.cache_read.input_tokens": u.cache_read,
            "gen_ai.usage.output_tokens": u.output,
        },
    )


def evaluation(at_ns: int, name: str, label: str, score: float, why: str) -> Span.Event:
    """A gen_ai.evaluation.result span event."""
    attrs = {
        "gen_ai.evaluation.name": name,
        "gen_ai.evaluation.score.label": label,
        "gen_ai.evaluation.score.value": score,
        "gen_ai.evaluation.explanation": why,
    }
    return Span.Event(
        time_unix_nano=at_ns,
        name="gen_ai.evaluation.result",
        attributes=[kv(k, v) for k, v in attrs.items()],
    )


def encode_traces(agent: str, spans: list[Span]) -> bytes:
    """ExportTraceServiceRequest bytes for one agent's resource."""
    attrs, scope = RESOURCES[agent]
    rs = ResourceSpans(
        resource=Resource(attributes=[kv(k, v) for k, v in attrs.items()]),
        scope_spans=[ScopeSpans(scope=InstrumentationScope(name=scope), spans=spans)],
    )
    return ExportTraceServiceRequest(resource_spans=[rs]).SerializeToString()


def encode_logs(agent: str, records: list[LogRecord]) -> bytes:
    """ExportLogsServiceRequest bytes for one agent's resource."""
    attrs, scope = RESOURCES[agent]
    rl = ResourceLogs(
        resource=Resource(attributes=[kv(k, v) for k, v in attrs.items()]),
        scope_logs=[ScopeLogs(scope=InstrumentationScope(name=scope), log_records=records)],
    )
    return ExportLogsServiceRequest(resource_logs=[rl]).SerializeToString()
