"""Webhook delivery of alerts: Slack-compatible JSON, retries with exponential backoff.

One background thread claims alerts (so with several servers on one database each alert is
sent once), records a delivery row per webhook, and retries failures with backoff; the
outcome of every attempt is stored, so a failing webhook is visible in `otelspend alerts
list` and on /metrics.  Nothing here runs on the ingest path.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from collector_processor.budgets.payload import slack_payload
from store.alerts import Alert, add_delivery, claim_for_delivery, load_alerts, record_attempt
from store.alerts import undispatched as undispatched_alerts
from store.subjects import org_by_id

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_BACKOFF_S = 0.5  # 0.5, 1, 2, 4, 8 s between attempts: ~15 s before giving up
DEFAULT_MAX_BACKOFF_S = 60.0
DEFAULT_TIMEOUT_S = 5.0
DEFAULT_SWEEP_INTERVAL_S = 2.0  # alerts raised outside this process are picked up this fast
_SWEEP_MAX_AGE = timedelta(hours=24)


def redact(url: str) -> str:
    """A webhook's stored name: scheme, host and a digest (Slack URLs embed a secret)."""
    parts = urlsplit(url)
    digest = hashlib.sha256(url.encode()).hexdigest()[:8]
    return f"{parts.scheme}://{parts.netloc}/…#{digest}"


def validate_webhook(url: str) -> str:
    """Return `url` if it is an absolute http(s) URL; raise ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"webhook must be an http(s) URL, got {url!r}")
    return url


@dataclass(slots=True)
class DeliveryStats:
    """Counters for /metrics and /health (this process)."""

    delivered: int = 0
    failed: int = 0
    retried: int = 0
    pending: int = 0


@dataclass(frozen=True, slots=True)
class _Attempt:
    delivery_id: int
    url: str
    body: bytes
    attempt: int


class WebhookDispatcher:
    """Delivers alerts to webhooks on its own thread; `submit` never blocks."""

    def __init__(
        self,
        engine: Engine,
        urls: Sequence[str],
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        backoff_s: float = DEFAULT_BACKOFF_S,
        max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        sweep_interval_s: float = DEFAULT_SWEEP_INTERVAL_S,
    ) -> None:
        if max_attempts < 1 or backoff_s < 0 or timeout_s <= 0 or sweep_interval_s <= 0:
            raise ValueError("max_attempts >= 1, backoff >= 0, timeout and sweep interval > 0")
        self._engine = engine
        self._urls = [validate_webhook(u) for u in urls]
        self._max_attempts = max_attempts
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._timeout_s = timeout_s
        self._sweep_s = sweep_interval_s
        self._cond = threading.Condition()
        self._new: list[int] = []
        self._due: list[tuple[float, int, _Attempt]] = []
        self._seq = itertools.count()
        self._stopping = False
        self.stats = DeliveryStats()
        self._thread = threading.Thread(target=self._run, name="otelspend-webhooks", daemon=True)
        self._thread.start()

    @property
    def webhooks(self) -> list[str]:
        """Redacted names of the configured webhooks."""
        return [redact(u) for u in self._urls]

    def submit(self, alerts: Sequence[Alert]) -> None:
        """Queue freshly raised alerts for delivery."""
        with self._cond:
            self._new.extend(a.id for a in alerts)
            self._cond.notify()

    def close(self, timeout_s: float = 10.0) -> None:
        """Make the first attempt of what is queued, then stop the thread.

        Deliveries still waiting for a retry stay 'pending' in the store (visible in
        `otelspend alerts list`); they are not resumed by the next start.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while (self._new or self._ready()) and time.monotonic() < deadline:
                self._cond.wait(0.05)
            self._stopping = True
            self._cond.notify()
        self._thread.join(max(0.0, deadline - time.monotonic()) + self._timeout_s)

    def _run(self) -> None:
        next_sweep = time.monotonic()
        while True:
            with self._cond:
                while not self._stopping and not self._new and not self._ready():
                    wake = min(next_sweep, self._due[0][0] if self._due else next_sweep)
                    self._cond.wait(max(0.0, wake - time.monotonic()))
                    if time.monotonic() >= next_sweep:
                        break
                if self._stopping:
                    return
                new, self._new = self._new, []
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self._sweep_s
                    new += self._sweep()
                self._start(new)
                self._send_due()
            except Exception:  # noqa: BLE001 - a store hiccup must not kill delivery
                log.exception("webhook delivery loop failed; retrying")
                time.sleep(min(self._sweep_s, 1.0))

    def _ready(self) -> bool:
        return bool(self._due) and self._due[0][0] <= time.monotonic()

    def _sweep(self) -> list[int]:
        with self._engine.connect() as conn:
            return undispatched_alerts(conn, _SWEEP_MAX_AGE)

    def _start(self, alert_ids: list[int]) -> None:
        """Claim alerts and schedule their first attempt to every webhook."""
        if not alert_ids:
            return
        with self._engine.begin() as conn:
            won = claim_for_delivery(conn, sorted(set(alert_ids)))
            alerts = load_alerts(conn, won)
            orgs = {o: org_by_id(conn, o).name for o in {a.org_id for a in alerts}}
            jobs = [
                _Attempt(add_delivery(conn, a.id, redact(url)), url, _body(a, orgs[a.org_id]), 1)
                for a in alerts
                for url in self._urls
            ]
        now = time.monotonic()
        with self._cond:
            for job in jobs:
                heapq.heappush(self._due, (now, next(self._seq), job))
            self.stats.pending = len(self._due)

    def _send_due(self) -> None:
        while True:
            with self._cond:
                if self._stopping or not self._ready():
                    self.stats.pending = len(self._due)
                    return
                _, _, job = heapq.heappop(self._due)
            self._attempt(job)

    def _attempt(self, job: _Attempt) -> None:
        error, retry_after = _post(job.url, job.body, self._timeout_s)
        if not error:
            status = "delivered"
            self.stats.delivered += 1
        elif job.attempt >= self._max_attempts:
            status = "failed"
            self.stats.failed += 1
            log.warning("webhook %s failed %d times: %s", redact(job.url), job.attempt, error)
        else:
            status = "pending"
            self.stats.retried += 1
            delay = min(self._backoff_s * 2 ** (job.attempt - 1), self._max_backoff_s)
            delay = max(delay, min(retry_after, self._max_backoff_s))
            retry = _Attempt(job.delivery_id, job.url, job.body, job.attempt + 1)
            with self._cond:
                heapq.heappush(self._due, (time.monotonic() + delay, next(self._seq), retry))
        with self._engine.begin() as conn:
            record_attempt(conn, job.delivery_id, job.attempt, status, error)


def _body(alert: Alert, org: str) -> bytes:
    return json.dumps(slack_payload(alert, org), default=str).encode()


def _post(url: str, body: bytes, timeout_s: float) -> tuple[str, float]:
    """POST JSON; return ('', 0) on 2xx, else (error text, server's Retry-After seconds)."""
    req = urllib.request.Request(url, data=body, method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("User-Agent", "otelspend-alerts")
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            resp.read()
            return "", 0.0
    except urllib.error.HTTPError as err:
        detail = err.read(200).decode("utf-8", "replace")
        return f"HTTP {err.code}: {detail}".strip(), _retry_after(err.headers)
    except (OSError, ValueError) as exc:  # refused, DNS, timeout, TLS
        return f"{exc.__class__.__name__}: {exc}", 0.0


def _retry_after(headers: Any) -> float:
    try:
        return float(headers.get("Retry-After") or 0)
    except (TypeError, ValueError):
        return 0.0
