"""The processing pipeline: normalize → price → attribute → hand to the store writer.

Each stage is a function over a batch; this class only wires them and waits for the commit,
so a receiver's success answer always means the data is durable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from collector_processor.attribution import agent_of, attributed_user
from collector_processor.consumer import ExportOutcome, IngestKey
from collector_processor.errors import Overloaded, Unavailable
from collector_processor.pricing.engine import Pricer
from semconv.normalize import normalize_logs, normalize_metrics, normalize_spans
from semconv.records import LlmCall, LogRecord, MetricPoint, NormalizedBatch, SpanRecord
from store.identity import UNATTRIBUTED_USER
from store.writer import QueueFull, StoreWriter, WriteBatch, WriterClosed

_NANO = Decimal(1_000_000_000)
_MAX_REASONS_IN_MESSAGE = 3


@dataclass(slots=True)
class IngestCounters:
    """Ingest counters per signal, shown on /health."""

    received: int = 0
    accepted: int = 0
    rejected: int = 0


class Pipeline:
    """Implements collector_processor.consumer.Consumer on top of the store writer."""

    def __init__(self, writer: StoreWriter, pricer: Pricer) -> None:
        self._writer = writer
        self._pricer = pricer
        self.counters = {s: IngestCounters() for s in ("spans", "logs", "metrics")}

    async def consume_traces(self, spans: list[SpanRecord], key: IngestKey) -> ExportOutcome:
        """Store every accepted span and the calls among them."""
        norm = normalize_spans(spans)
        bad = {r.index for r in norm.rejections}
        res_json: dict[int, str] = {}
        rows = [span_row(s, key, res_json) for i, s in enumerate(spans) if i not in bad]
        return await self._commit("spans", len(spans), key, rows, norm)

    async def consume_logs(self, logs: list[LogRecord], key: IngestKey) -> ExportOutcome:
        """Store the calls that log events describe."""
        return await self._commit("logs", len(logs), key, [], normalize_logs(logs))

    async def consume_metrics(self, points: list[MetricPoint], key: IngestKey) -> ExportOutcome:
        """Store the per-session aggregates that metric points describe."""
        return await self._commit("metrics", len(points), key, [], normalize_metrics(points))

    async def _commit(
        self,
        signal: str,
        received: int,
        key: IngestKey,
        spans: list[dict[str, Any]],
        norm: NormalizedBatch,
    ) -> ExportOutcome:
        counters = self.counters[signal]
        counters.received += received
        batch = WriteBatch(
            org_id=key.org_id,
            spans=spans,
            calls=[self._call_row(c, key) for c in norm.calls],
        )
        if batch.spans or batch.calls:
            try:
                fut = self._writer.submit(batch)
            except QueueFull as exc:
                raise Overloaded(f"{exc}; retry later", retry_after_s=1) from exc
            except WriterClosed as exc:
                raise Unavailable(str(exc)) from exc
            try:
                await asyncio.wrap_future(fut)
            except Exception as exc:
                raise Unavailable(f"store commit failed: {exc.__class__.__name__}") from exc
        rejected = len(norm.rejections)
        counters.rejected += rejected
        counters.accepted += received - rejected
        return ExportOutcome(rejected=rejected, message=rejection_message(norm, received))

    def _call_row(self, call: LlmCall, key: IngestKey) -> dict[str, Any]:
        price = self._pricer.price(call)
        user_id, user_name = attributed_user(call, key)
        return {
            "call_id": call.call_id,
            "org_id": key.org_id,
            "workspace_id": key.workspace_id,
            "user_id": user_id,
            "user_name": user_name or (UNATTRIBUTED_USER if user_id is None else ""),
            "key_id": key.key_id,
            "agent": agent_of(call),
            "provider": price.provider_id or call.provider,
            "request_model": call.request_model,
            "response_model": call.response_model,
            "model": price.priced_model or call.model,
            "operation": call.operation,
            "granularity": call.granularity,
            "source": call.source,
            "dialect": call.dialect,
            "start_ns": call.start_ns,
            "end_ns": call.end_ns,
            "input_tokens": call.input_tokens,
            "cache_read_tokens": call.cache_read_tokens,
            "cache_write_tokens": call.cache_write_tokens,
            "cache_write_1h_tokens": call.cache_write_1h_tokens,
            "output_tokens": call.output_tokens,
            "reasoning_tokens": call.reasoning_tokens,
            "cost_nanousd": price.cost_nanousd,
            "client_cost_nanousd": _nano(call.client_cost_usd),
            "price_version": price.price_version,
            "unpriced_reason": price.reason,
            "trace_id": call.trace_id,
            "span_id": call.span_id,
            "session_id": call.session_id,
            "service_name": call.service_name,
            "created_ns": time.time_ns(),
        }


def _nano(usd: Decimal | None) -> int | None:
    return None if usd is None else int((usd * _NANO).to_integral_value())


def rejection_message(norm: NormalizedBatch, received: int) -> str:
    """Summarize rejections for OTLP partial_success.error_message."""
    if not norm.rejections:
        return ""
    reasons = [f"#{r.index}: {r.reason}" for r in norm.rejections[:_MAX_REASONS_IN_MESSAGE]]
    more = len(norm.rejections) - len(reasons)
    tail = f"; and {more} more" if more else ""
    return f"rejected {len(norm.rejections)} of {received}: " + "; ".join(reasons) + tail


def _dumps(value: Any) -> str:
    # orjson: ~5x faster than json.dumps, and this runs for every span on the hot path.
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def span_row(span: SpanRecord, key: IngestKey, resource_json: dict[int, str]) -> dict[str, Any]:
    """The spans-table row of a span; `resource_json` memoizes each shared resource's JSON."""
    res = resource_json.get(id(span.resource))
    if res is None:
        res = resource_json[id(span.resource)] = _dumps(span.resource)
    return {
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "kind": span.kind,
        "start_ns": span.start_ns,
        "end_ns": span.end_ns,
        "status_code": span.status_code,
        "status_message": span.status_message,
        "org_id": key.org_id,
        "workspace_id": key.workspace_id,
        "key_id": key.key_id,
        "service_name": str(span.resource.get("service.name", "")),
        "scope_name": span.scope_name,
        "attributes": _dumps(span.attributes),
        "resource": res,
        "events": _events_json(span),
    }


def _events_json(span: SpanRecord) -> str:
    if not span.events:
        return "[]"
    return _dumps(
        [{"name": e.name, "time_ns": e.time_ns, "attributes": e.attributes} for e in span.events]
    )


def summarize_counters(counters: dict[str, IngestCounters]) -> dict[str, dict[str, int]]:
    """Counters as plain dicts for the health endpoint."""
    return {
        k: {"received": v.received, "accepted": v.accepted, "rejected": v.rejected}
        for k, v in counters.items()
    }


__all__: Sequence[str] = ("Pipeline", "span_row", "rejection_message", "summarize_counters")
