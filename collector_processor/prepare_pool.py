"""Worker processes for the decode → normalize half of the pipeline."""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from collector_processor.errors import Unavailable
from collector_processor.prepare import Prepared, prepare

# Below this, a round trip to a worker costs more than decoding in place.
INLINE_MAX_BYTES = 32 * 1024


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group; the serving process shuts the pool down itself
    # (after draining), so workers must not die mid-task with a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PreparePool:
    """A pool of `workers` processes; bodies under `inline_max_bytes` are prepared in place.

    Processes start with "spawn": forking a process that already runs gRPC threads is unsafe.
    """

    def __init__(self, workers: int, *, inline_max_bytes: int = INLINE_MAX_BYTES) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._inline_max = inline_max_bytes
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_ignore_interrupts
        )

    def warm_up(self) -> None:
        """Start every worker now (imports take ~1 s) instead of on the first request."""
        futures = [
            self._executor.submit(prepare, "logs", b"", "protobuf") for _ in range(self.workers)
        ]
        for f in futures:
            f.result(timeout=120)

    async def prepare(self, signal: str, body: bytes, encoding: str) -> Prepared:
        """Prepare one body in a worker (or in place when small)."""
        if len(body) <= self._inline_max:
            return prepare(signal, body, encoding)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, prepare, signal, body, encoding)
        except BrokenProcessPool as exc:
            # A dead worker breaks the whole executor: replace it so later requests succeed.
            self._executor = self._new_executor()
            raise Unavailable("decode worker died; retry") from exc

    def close(self) -> None:
        """Stop the workers."""
        self._executor.shutdown(wait=True, cancel_futures=True)
