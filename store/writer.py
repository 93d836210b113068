"""The single writer: a bounded queue in front of one thread that group-commits batches.

Ordering matters here: a batch's future is resolved only after the transaction holding it
has committed, which is what lets a receiver answer OTLP success ("ack after commit").
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from store.write_gate import write_gate
from store.write_ops import WriteCounts, write_group

log = logging.getLogger(__name__)

DEFAULT_QUEUE_BATCHES = 64
DEFAULT_MAX_GROUP_BATCHES = 16
_STOP = object()


class QueueFull(Exception):
    """The bounded write queue is full; the caller should ask its client to retry."""


class WriterClosed(Exception):
    """The writer is stopping and takes no more batches."""


@dataclass(slots=True)
class WriteBatch:
    """Rows of one export request, ready for the store.

    `spans` are tuples in write_ops.SPAN_INSERT_COLUMNS order (built without per-row dicts:
    this is the hottest loop of ingest).
    `calls` rows may carry user_id None plus a `user_name` to resolve (trusted senders and
    the "unattributed" bucket); the writer creates missing users.
    """

    org_id: int
    spans: list[tuple[Any, ...]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    # store.evaluations: tag rows, and (response_id, trace_id, span_id) of spans.
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    response_links: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(slots=True)
class WriterStats:
    """Counters exposed on the health endpoint."""

    batches_committed: int = 0
    spans_committed: int = 0
    calls_inserted: int = 0
    calls_duplicate: int = 0
    calls_matched: int = 0  # stored as duplicates of a call from another channel
    commit_failures: int = 0
    last_commit_ms: float = 0.0


class StoreWriter:
    """Owns every hot-path write; one thread, one transaction per group of batches."""

    def __init__(
        self,
        engine: Engine,
        *,
        queue_batches: int = DEFAULT_QUEUE_BATCHES,
        max_group_batches: int = DEFAULT_MAX_GROUP_BATCHES,
        after_commit: Sequence[Callable[[list[WriteBatch]], None]] = (),
    ) -> None:
        if queue_batches < 1 or max_group_batches < 1:
            raise ValueError("queue_batches and max_group_batches must be >= 1")
        self._engine = engine
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_batches)
        self._max_group = max_group_batches
        # Run on the writer thread right after each commit (budget evaluation, alerting):
        # keep them quick; a failing hook is logged and never fails an ack.
        self._after_commit = list(after_commit)
        self._user_ids: dict[tuple[int, str], int] = {}
        self._closed = False
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="otelspend-writer", daemon=True)
        self._thread.start()

    @property
    def queue_depth(self) -> int:
        """Batches waiting for the writer."""
        return self._queue.qsize()

    def submit(self, batch: WriteBatch) -> Future[WriteCounts]:
        """Queue a batch; the future resolves after commit.  Raises QueueFull when full."""
        if self._closed:
            raise WriterClosed("the store writer is shutting down")
        fut: Future[WriteCounts] = Future()
        try:
            self._queue.put_nowait((batch, fut))
        except queue.Full:
            raise QueueFull(f"write queue full ({self._queue.maxsize} batches)") from None
        return fut

    def close(self, timeout_s: float = 30.0) -> None:
        """Drain what is queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            stop = False
            while len(group) < self._max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                group.append(item)
            self._commit_group(group)
            if stop:
                return

    def _commit_group(self, group: list[tuple[WriteBatch, Future[WriteCounts]]]) -> None:
        started = time.perf_counter()
        try:
            with write_gate(self._engine), self._engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    # Take the write lock before the first read: the writer reads (call
                    # matching, sessions with calls) and then writes, and another process's
                    # writer on the same file (a gateway replica) must not commit between.
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                counts = self._write(conn, [b for b, _ in group])
        except Exception as exc:  # noqa: BLE001 - isolate the failing batch below
            # Ids cached during a rolled-back transaction may name rows that do not exist.
            self._user_ids.clear()
            if len(group) > 1:
                # One bad batch must not fail its neighbours: retry each on its own.
                for item in group:
                    self._commit_group([item])
                return
            log.exception("store commit failed")
            self.stats.commit_failures += 1
            group[0][1].set_exception(exc)
            return
        self._record(group, counts, started)

    def _write(self, conn: Connection, batches: list[WriteBatch]) -> list[WriteCounts]:
        return write_group(conn, batches, self._user_ids)

    def _record(
        self,
        group: list[tuple[WriteBatch, Future[WriteCounts]]],
        counts: list[WriteCounts],
        started: float,
    ) -> None:
        self.stats.last_commit_ms = (time.perf_counter() - started) * 1000
        self.stats.batches_committed += len(group)
        for (batch, fut), c in zip(group, counts, strict=True):
            self.stats.spans_committed += len(batch.spans)
            self.stats.calls_inserted += c.calls_inserted
            self.stats.calls_duplicate += c.calls_duplicate
            self.stats.calls_matched += c.calls_matched
            fut.set_result(c)
        batches = [b for b, _ in group]
        for hook in self._after_commit:
            try:
                hook(batches)
            except Exception:  # noqa: BLE001 - post-commit hooks never fail an ack
                log.exception("after-commit hook %r failed", hook)
