"""Every proxied call becomes a GenAI-semconv span (plus its upstream HTTP child span) and a
canonical LlmCall of dialect "gateway", committed through the same single writer as OTLP data.

Pricing and attribution are the pipeline's (`Pipeline._call_row`), so a gateway call is priced
and attributed exactly like telemetry and lands in the rollups budgets read.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from collector_processor.consumer import IngestKey
from collector_processor.pipeline import Pipeline
from collector_processor.prepare import span_values
from gateway.providers.common import Usage
from semconv import names as n
from semconv.records import GRANULARITY_CALL, STATUS_ERROR, STATUS_OK, LlmCall, SpanRecord
from store.writer import QueueFull, StoreWriter, WriteBatch

DIALECT = "gateway"
SERVICE_NAME = "otelspend-gateway"
_SPAN_KIND_CLIENT = 3
_RESOURCE = {"service.name": SERVICE_NAME}
_QUEUE_FULL_RETRY_S = 0.05
_QUEUE_FULL_TRIES = 200  # ~10 s: a call already made upstream must be recorded, not dropped
_SESSION_HEADERS = ("x-claude-code-session-id", "session-id")
_MAX_SESSION_CHARS = 128
_AGENTS = (
    ("claude-cli", n.CLAUDE_CODE_AGENT),
    ("codex", n.CODEX_AGENT),
    ("geminicli", n.GEMINI_CLI_AGENT),
)


@dataclass(slots=True)
class Trace:
    """Ids of the gateway's span: continues the client's traceparent when it sent one."""

    trace_id: str
    span_id: str
    parent_span_id: str
    upstream_span_id: str

    @classmethod
    def from_header(cls, traceparent: str | None) -> Trace:
        """Parse a W3C traceparent (version 00); start a new trace when absent or invalid."""
        parts = (traceparent or "").strip().split("-")
        ok = len(parts) == 4 and len(parts[1]) == 32 and len(parts[2]) == 16
        if ok and all(c in "0123456789abcdef" for c in parts[1] + parts[2]):
            if parts[1] != "0" * 32 and parts[2] != "0" * 16:
                return cls(parts[1], _span_id(), parts[2], _span_id())
        return cls(f"{random.getrandbits(127) + 1:032x}", _span_id(), "", _span_id())

    def upstream_header(self) -> str:
        """traceparent for the upstream request (its parent is the upstream HTTP span)."""
        return f"00-{self.trace_id}-{self.upstream_span_id}-01"


@dataclass(slots=True)
class CallFacts:
    """What the proxy learned about one call."""

    key: IngestKey
    provider: str
    operation: str
    request_model: str
    usage: Usage
    trace: Trace
    start_ns: int
    end_ns: int
    upstream_start_ns: int
    upstream_end_ns: int
    upstream_url: str
    status: int
    user_agent: str = ""
    abandoned: bool = False
    reserved_nanousd: int = 0
    session_id: str = ""  # the client's session, when its requests name it (session_header)


def _span_id() -> str:
    """A random non-zero span id; like the OTel SDK, ids need not be cryptographic."""
    return f"{random.getrandbits(63) + 1:016x}"


def session_header(headers: Mapping[str, str]) -> str:
    """The coding agent's session id from its request headers ("" when it sends none):
    Claude Code's X-Claude-Code-Session-Id and Codex's session-id carry the id its telemetry
    reports, so the gateway's record and the CLI's own records of a call agree on the session
    (and a session's metric aggregate is not billed beside the gateway's calls)."""
    for name in _SESSION_HEADERS:
        value = headers.get(name, "").strip()
        if value:
            return value[:_MAX_SESSION_CHARS]
    return ""


def agent_from_user_agent(user_agent: str) -> str:
    """The coding agent a User-Agent names ("" when unknown)."""
    ua = user_agent.lower()
    return next((agent for marker, agent in _AGENTS if marker in ua), "")


class CallRecorder:
    """Builds the rows of a proxied call and commits them through the writer."""

    def __init__(self, pipeline: Pipeline, writer: StoreWriter) -> None:
        self._pipeline = pipeline
        self._writer = writer

    async def record(self, facts: CallFacts, *, bill: bool = True) -> int | None:
        """Commit the call (its spans only when not `bill`); returns its cost in nano-USD."""
        row = self._pipeline._call_row(_llm_call(facts), facts.key) if bill else None
        cost = None if row is None else row["cost_nanousd"]
        k = facts.key
        tail = (k.org_id, k.workspace_id, k.key_id)
        spans = [span_values(s, {}) + tail for s in _spans(facts, cost)]
        calls = [] if row is None else [row]
        await self._submit(WriteBatch(org_id=k.org_id, spans=spans, calls=calls))
        return cost

    async def _submit(self, batch: WriteBatch) -> None:
        for _ in range(_QUEUE_FULL_TRIES):
            try:
                fut = self._writer.submit(batch)
            except QueueFull:
                await asyncio.sleep(_QUEUE_FULL_RETRY_S)
                continue
            await asyncio.wrap_future(fut)
            return
        raise RuntimeError("store write queue stayed full; gateway call not recorded")


def _llm_call(f: CallFacts) -> LlmCall:
    u = f.usage
    return LlmCall(
        call_id=f"span:{f.trace.trace_id}:{f.trace.span_id}",
        granularity=GRANULARITY_CALL,
        source="span",
        dialect=DIALECT,
        provider=f.provider,
        request_model=f.request_model,
        response_model=u.response_model,
        operation=f.operation,
        start_ns=f.start_ns,
        end_ns=f.end_ns,
        input_tokens=u.input_tokens,
        cache_read_tokens=u.cache_read_tokens,
        cache_write_tokens=u.cache_write_tokens,
        cache_write_1h_tokens=u.cache_write_1h_tokens,
        output_tokens=u.output_tokens,
        reasoning_tokens=min(u.reasoning_tokens, u.output_tokens),
        trace_id=f.trace.trace_id,
        span_id=f.trace.span_id,
        session_id=f.session_id,
        agent_name=agent_from_user_agent(f.user_agent),
        service_name=SERVICE_NAME,
    )


def _spans(f: CallFacts, cost: int | None) -> list[SpanRecord]:
    """The GenAI span of the call and the HTTP client span of its upstream request."""
    u = f.usage
    attrs: dict[str, Any] = {
        n.GEN_AI_OPERATION_NAME: f.operation,
        n.GEN_AI_PROVIDER_NAME: f.provider,
        n.GEN_AI_REQUEST_MODEL: f.request_model,
        n.GEN_AI_RESPONSE_MODEL: u.response_model,
        "gen_ai.response.id": u.response_id,
        # semconv input INCLUDES cached tokens
        n.GEN_AI_USAGE_INPUT_TOKENS: u.input_tokens + u.cache_read_tokens + u.cache_write_tokens,
        n.GEN_AI_USAGE_OUTPUT_TOKENS: u.output_tokens,
        n.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: u.cache_read_tokens,
        n.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: u.cache_write_tokens,
        "otelspend.gateway.reserved_nanousd": f.reserved_nanousd,
        "otelspend.gateway.cost_nanousd": -1 if cost is None else cost,
        "otelspend.gateway.usage_reported": u.complete,
        "otelspend.gateway.abandoned": f.abandoned,
        "http.response.status_code": f.status,
        "user_agent.original": f.user_agent,
    }
    status = STATUS_OK if f.status < 400 and not f.abandoned else STATUS_ERROR
    name = f"{f.operation} {f.request_model}".strip()
    t = f.trace
    main = SpanRecord(
        t.trace_id, t.span_id, t.parent_span_id, name, _SPAN_KIND_CLIENT, f.start_ns, f.end_ns,
        attrs, _RESOURCE, "otelspend.gateway", status,
    )  # fmt: skip
    http_attrs = {"http.request.method": "POST", "url.full": f.upstream_url,
                  "http.response.status_code": f.status}  # fmt: skip
    upstream = SpanRecord(
        t.trace_id, t.upstream_span_id, t.span_id, "POST", _SPAN_KIND_CLIENT,
        f.upstream_start_ns, f.upstream_end_ns or time.time_ns(), http_attrs, _RESOURCE,
        "otelspend.gateway.upstream", STATUS_ERROR if f.status >= 500 else STATUS_OK,
    )  # fmt: skip
    return [main, upstream]
