"""The interface between a receiver and the processing pipeline (the "next consumer")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from semconv.records import LogRecord, MetricPoint, SpanRecord


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """Committed result of one export request; rejected > 0 means OTLP partial_success."""

    rejected: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class IngestKey:
    """The identity an authenticated credential fixes for everything it sends."""

    key_id: int
    org_id: int
    workspace_id: int
    user_id: int | None
    trusted: bool  # a shared sender (gateway, company collector): telemetry names the user
    prefix: str


class Authenticator(Protocol):
    def authenticate(self, token: str | None) -> IngestKey:
        """Return the key for a bearer token or raise errors.Unauthenticated."""
        ...


class Consumer(Protocol):
    """Receives decoded batches; returns only after the batch is committed to the store.

    Raises errors.Overloaded when the write queue is full and errors.Unavailable when the
    store cannot commit; never raises for bad records inside a batch (those are counted in
    ExportOutcome.rejected).
    """

    async def consume_traces(self, spans: list[SpanRecord], key: IngestKey) -> ExportOutcome: ...

    async def consume_logs(self, logs: list[LogRecord], key: IngestKey) -> ExportOutcome: ...

    async def consume_metrics(self, points: list[MetricPoint], key: IngestKey) -> ExportOutcome: ...


@runtime_checkable
class EncodedConsumer(Protocol):
    """A consumer that decodes bodies itself (e.g. in worker processes, off the event loop).

    Receivers prefer it when available; it raises errors.DecodeError for undecodable bodies
    exactly as collector_processor.otlp.decode does.
    """

    async def consume_encoded(
        self, signal: str, body: bytes, encoding: str, key: IngestKey
    ) -> ExportOutcome: ...
