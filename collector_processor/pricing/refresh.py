"""Keep a running Pricer's book in step with the stored prices, off the hot path.

A background thread compares a cheap epoch (counts and highest ids of versions and
overrides: one query) every few seconds and, only when it moved, rebuilds the book and
swaps it in.  Parsed catalogs are cached by version id: snapshots never change.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from collector_processor.pricing.book import CatalogVersion
from collector_processor.pricing.engine import Pricer
from store.prices import load_price_book, price_epoch

log = logging.getLogger(__name__)

DEFAULT_PRICE_REFRESH_SECONDS = 5.0


class PriceBookRefresher:
    """Loads the stored price book into a Pricer now, then whenever prices change."""

    def __init__(
        self, engine: Engine, pricer: Pricer, interval_s: float = DEFAULT_PRICE_REFRESH_SECONDS
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0, got {interval_s}")
        self._engine = engine
        self._pricer = pricer
        self._interval_s = interval_s
        self._epoch: tuple[int, ...] | None = None
        self._catalogs: dict[int, CatalogVersion] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # refresh() may also be called from other threads

    def refresh(self) -> bool:
        """Reload the book if the stored prices changed; return whether it did."""
        with self._lock:
            # Read the epoch before loading: a change racing the load is seen next time.
            epoch = price_epoch(self._engine)
            if epoch == self._epoch:
                return False
            self._pricer.use(load_price_book(self._engine, self._catalogs))
            self._epoch = epoch
            book = self._pricer.book
            log.info(
                "prices loaded: %d version(s), newest %r; %d override(s)",
                len(book.versions),
                book.versions[0].label,
                len(book.overrides),
            )
            return True

    def start(self) -> None:
        """Load now (errors propagate: a server must not start without its prices), then poll."""
        self.refresh()
        self._thread = threading.Thread(target=self._run, name="otelspend-prices", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._interval_s + 5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - keep pricing with the last good book
                log.exception("price refresh failed; still using the previous prices")
