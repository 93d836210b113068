"""Background WAL checkpoints for SQLite, off the writer thread.

SQLite's automatic checkpoint runs inside whichever commit pushes the WAL past its limit,
so the single writer would stall copying pages into the database file.  Instead the serving
process disables auto-checkpoints on its connections and this thread runs PASSIVE
checkpoints (which never block the writer) on its own connection; with a longer interval,
index pages that random trace/call ids dirty again and again are written out once.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_INTERVAL_S = 1.0


class WalCheckpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` every `interval_s` until stopped."""

    def __init__(self, engine: Engine, interval_s: float = DEFAULT_CHECKPOINT_INTERVAL_S) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self._engine = engine
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="otelspend-wal", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.checkpoint("PASSIVE")

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        """Checkpoint now; failures are logged (the next round retries)."""
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")
        except Exception:  # noqa: BLE001 - a missed checkpoint only delays WAL reuse
            log.exception("WAL checkpoint failed")

    def stop(self) -> None:
        """Stop the thread after a final checkpoint that truncates the WAL."""
        self._stop.set()
        self._thread.join(10)
        self.checkpoint("TRUNCATE")
