"""The processing pipeline: (decode → normalize) → price → attribute → hand to the writer.

Each stage is a function over a batch; this class only wires them and waits for the commit,
so a receiver's success answer always means the data is durable.  Decode and normalize run
in worker processes when a PreparePool is given (see collector_processor.prepare).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from collector_processor.attribution import agent_of, attributed_user
from collector_processor.consumer import ExportOutcome, IngestKey
from collector_processor.errors import Overloaded, Unavailable
from collector_processor.evaluations.rows import add_to_batch, warning_message
from collector_processor.prepare import (
    Prepared,
    prepare,
    prepare_logs,
    prepare_metrics,
    prepare_spans,
)
from collector_processor.prepare_pool import PreparePool
from collector_processor.pricing.engine import Pricer
from semconv.records import LlmCall, LogRecord, MetricPoint, SpanRecord
from store.identity import UNATTRIBUTED_USER
from store.writer import QueueFull, StoreWriter, WriteBatch, WriterClosed

_NANO = Decimal(1_000_000_000)
_MAX_REASONS_IN_MESSAGE = 3


@dataclass(slots=True)
class IngestCounters:
    """Ingest counters of one signal, shown on /health."""

    received: int = 0
    accepted: int = 0
    rejected: int = 0


class Pipeline:
    """Implements collector_processor.consumer.Consumer (and EncodedConsumer) on the writer."""

    def __init__(self, writer: StoreWriter, pricer: Pricer, pool: PreparePool | None = None):
        self._writer = writer
        self._pricer = pricer
        self._pool = pool
        self.counters = {s: IngestCounters() for s in ("traces", "logs", "metrics")}

    async def consume_encoded(
        self, signal: str, body: bytes, encoding: str, key: IngestKey
    ) -> ExportOutcome:
        """Decode, normalize (in a worker process when pooled) and commit one export body."""
        if self._pool is not None:
            prepared = await self._pool.prepare(signal, body, encoding)
        else:
            prepared = prepare(signal, body, encoding)
        return await self._commit(signal, key, prepared)

    async def consume_traces(self, spans: list[SpanRecord], key: IngestKey) -> ExportOutcome:
        """Store every accepted span and the calls among them."""
        return await self._commit("traces", key, prepare_spans(spans))

    async def consume_logs(self, logs: list[LogRecord], key: IngestKey) -> ExportOutcome:
        """Store the calls and evaluations that log events describe."""
        return await self._commit("logs", key, prepare_logs(logs))

    async def consume_metrics(self, points: list[MetricPoint], key: IngestKey) -> ExportOutcome:
        """Store the per-session aggregates that metric points describe."""
        return await self._commit("metrics", key, prepare_metrics(points))

    async def _commit(self, signal: str, key: IngestKey, prepared: Prepared) -> ExportOutcome:
        tail = (key.org_id, key.workspace_id, key.key_id)
        batch = WriteBatch(
            org_id=key.org_id,
            spans=[row + tail for row in prepared.span_rows],
            calls=[self._call_row(c, key) for c in prepared.calls],
        )
        add_to_batch(batch, prepared.evaluations, key)
        if batch.spans or batch.calls or batch.evaluations:
            await self._write(batch)
        counters = self.counters[signal]
        rejected = len(prepared.rejections)
        counters.received += prepared.received
        counters.rejected += rejected
        counters.accepted += prepared.received - rejected
        message = rejection_message(prepared)
        warning = warning_message(prepared.evaluations)  # the spans were stored: not rejected
        message = "; ".join(m for m in (message, warning) if m)
        return ExportOutcome(rejected=rejected, message=message)

    async def _write(self, batch: WriteBatch) -> None:
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

    def _call_row(self, call: LlmCall, key: IngestKey) -> dict[str, Any]:
        price = self._pricer.price(call, key.org_id, key.workspace_id)
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


def rejection_message(prepared: Prepared) -> str:
    """Summarize rejections for OTLP partial_success.error_message."""
    if not prepared.rejections:
        return ""
    shown = prepared.rejections[:_MAX_REASONS_IN_MESSAGE]
    reasons = [f"#{r.index}: {r.reason}" for r in shown]
    more = len(prepared.rejections) - len(shown)
    tail = f"; and {more} more" if more else ""
    total = len(prepared.rejections)
    return f"rejected {total} of {prepared.received}: " + "; ".join(reasons) + tail


def summarize_counters(counters: dict[str, IngestCounters]) -> dict[str, dict[str, int]]:
    """Counters as plain dicts for the health endpoint."""
    return {
        k: {"received": v.received, "accepted": v.accepted, "rejected": v.rejected}
        for k, v in counters.items()
    }
