"""In-memory test doubles for the ingest interfaces; intended only for tests.

`RecordingConsumer` stands in for the pipeline behind a receiver (like the OTel SDK's
InMemorySpanExporter), `StaticAuthenticator` for the key store, and `LoopThread` runs async
servers in the background so synchronous clients (the OTel SDK exporters) can call them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from collector_processor import errors
from collector_processor.consumer import ExportOutcome, IngestKey
from semconv.records import LogRecord, MetricPoint, SpanRecord

T = TypeVar("T")


def make_ingest_key(
    key_id: int = 1,
    *,
    org_id: int = 1,
    workspace_id: int = 1,
    user_id: int | None = None,
    trusted: bool = False,
    prefix: str = "",
) -> IngestKey:
    """Return an IngestKey with test defaults (prefix defaults to f"key{key_id}")."""
    return IngestKey(key_id, org_id, workspace_id, user_id, trusted, prefix or f"key{key_id}")


@dataclass(frozen=True, slots=True)
class ConsumedBatch:
    """One batch a RecordingConsumer accepted."""

    signal: str  # "traces" | "logs" | "metrics"
    records: list[Any]
    key: IngestKey


class RecordingConsumer:
    """Consumer double: records every accepted batch, or raises the configured error.

    `outcome` is returned for every batch (set rejected > 0 to exercise partial_success);
    when `error` is set it is raised instead and nothing is recorded, as for a batch the
    store never committed (errors.Overloaded, errors.Unavailable, or any other exception to
    play a broken pipeline).  Both may be changed between requests.
    """

    def __init__(
        self, outcome: ExportOutcome | None = None, error: Exception | None = None
    ) -> None:
        self.outcome = outcome or ExportOutcome()
        self.error = error
        self.batches: list[ConsumedBatch] = []

    async def consume_traces(self, spans: list[SpanRecord], key: IngestKey) -> ExportOutcome:
        """Record a span batch."""
        return self._consume("traces", spans, key)

    async def consume_logs(self, logs: list[LogRecord], key: IngestKey) -> ExportOutcome:
        """Record a log batch."""
        return self._consume("logs", logs, key)

    async def consume_metrics(self, points: list[MetricPoint], key: IngestKey) -> ExportOutcome:
        """Record a metric-point batch."""
        return self._consume("metrics", points, key)

    @property
    def spans(self) -> list[SpanRecord]:
        """Return every recorded span, in arrival order."""
        return [r for b in self.batches if b.signal == "traces" for r in b.records]

    @property
    def logs(self) -> list[LogRecord]:
        """Return every recorded log record, in arrival order."""
        return [r for b in self.batches if b.signal == "logs" for r in b.records]

    @property
    def points(self) -> list[MetricPoint]:
        """Return every recorded metric point, in arrival order."""
        return [r for b in self.batches if b.signal == "metrics" for r in b.records]

    def _consume(self, signal: str, records: list[Any], key: IngestKey) -> ExportOutcome:
        """Raise the configured error or record the batch and return the outcome."""
        if self.error is not None:
            raise self.error
        self.batches.append(ConsumedBatch(signal, list(records), key))
        return self.outcome


class StaticAuthenticator:
    """Authenticator double: a fixed token → IngestKey table."""

    def __init__(self, keys: Mapping[str, IngestKey]) -> None:
        self._keys = dict(keys)

    def authenticate(self, token: str | None) -> IngestKey:
        """Return the key of a known token or raise errors.Unauthenticated."""
        if token is None:
            raise errors.Unauthenticated("missing ingest key: send 'Authorization: Bearer <key>'")
        key = self._keys.get(token)
        if key is None:
            raise errors.Unauthenticated("unknown ingest key")
        return key


class LoopThread:
    """An asyncio event loop running in a daemon thread; use as a context manager."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        """Run a coroutine on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)
