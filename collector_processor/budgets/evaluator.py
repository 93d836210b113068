"""The budget evaluator: after each commit, re-evaluate what the committed calls touched.

The writer's after-commit hook only appends the committed batches to a list and wakes this
thread (O(1)), so the writer never waits on alert logic.  Each pass takes everything that
arrived since the last one — under heavy ingest passes coalesce many commits — finds the
budgets, sessions, keys and unpriced models the calls touched, and raises alerts (the
store's dedupe keys make each fire once, also across replicas).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from collector_processor.budgets.alerts import DEFAULT_UI_URL
from collector_processor.budgets.dirty import DirtyOrg, dirty_by_org
from collector_processor.budgets.rules import budget_drafts, runaway_drafts, unpriced_drafts
from collector_processor.budgets.runaway import RunawayPolicy
from store.alerts import Alert, insert_alert
from store.budgets import Budget, load_budgets
from store.subjects import org_by_id
from store.writer import WriteBatch

log = logging.getLogger(__name__)

BUDGET_CACHE_S = 0.5  # `budgets set` takes effect within this (+ one pass)
# After a pass the evaluator rests twice as long as the pass took (at most 0.5 s) before the
# next one: it then uses at most a third of a core under heavy ingest — each pass covering
# many commits — while a lone commit on a quiet server is evaluated within milliseconds.
REST_PER_PASS = 2.0
# Within one minute, a subject's per-minute series is re-read at most this often: reading it
# scans the subject's recent calls, and under heavy ingest every active session is dirty on
# every pass.  A subject's first call in a new minute is always checked at once.
RUNAWAY_RECHECK_S = 10.0
MAX_REST_S = 0.5
_MAX_FIRED_KEYS = 100_000

AlertSink = Callable[[Sequence[Alert]], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class BudgetEvaluator:
    """Evaluates budgets and alert rules on its own thread, fed by the writer's hook."""

    def __init__(
        self,
        engine: Engine,
        *,
        sink: AlertSink | None = None,
        ui_url: str = DEFAULT_UI_URL,
        runaway: RunawayPolicy | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._engine = engine
        self._sink = sink
        self._ui_url = ui_url
        self._runaway = runaway or RunawayPolicy()
        self._clock = clock
        self._cond = threading.Condition()
        self._pending: list[WriteBatch] = []
        self._submitted = 0
        self._done = 0
        self._stopping = False
        self._budgets: dict[int, tuple[float, list[Budget]]] = {}
        self._runaway_checked: dict[tuple[int, str, object], tuple[float, int]] = {}
        self._fired: set[str] = set()
        self.raised: Counter[str] = Counter()
        self.passes = 0
        self.last_pass_ms = 0.0
        self._thread = threading.Thread(target=self._run, name="otelspend-budgets", daemon=True)
        self._thread.start()

    def on_commit(self, batches: list[WriteBatch]) -> None:
        """Writer after-commit hook: hand the committed batches over and return at once."""
        with self._cond:
            self._pending.extend(batches)
            self._submitted += 1
            self._cond.notify()

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every commit handed over so far is evaluated (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            target = self._submitted
            while self._done < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Evaluate what is pending, then stop the thread."""
        self.flush(timeout_s)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        resume = 0.0
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping and not self._pending:
                    return
                while not self._stopping and (pause := resume - time.perf_counter()) > 0:
                    self._cond.wait(pause)  # more commits join this pass meanwhile
                batches, self._pending = self._pending, []
                target = self._submitted
            started = time.perf_counter()
            try:
                self.evaluate(batches)
            except Exception:  # noqa: BLE001 - one bad pass must not stop alerting
                log.exception("budget evaluation failed")
            took = time.perf_counter() - started
            self.last_pass_ms = took * 1000
            resume = time.perf_counter() + min(REST_PER_PASS * took, MAX_REST_S)
            with self._cond:
                self.passes += 1
                self._done = target
                self._cond.notify_all()

    def evaluate(self, batches: Sequence[WriteBatch]) -> list[Alert]:
        """One pass over committed batches; returns the alerts it raised."""
        now = self._clock()
        drafts: list[Alert] = []
        with self._engine.connect() as conn:
            for org_id, dirty in dirty_by_org(batches).items():
                drafts += self._drafts(conn, org_id, dirty, now)
        fresh = [d for d in drafts if d.dedupe_key not in self._fired]
        if not fresh:
            return []
        raised = []
        with self._engine.begin() as conn:
            for draft in fresh:
                alert = insert_alert(conn, draft)
                if alert is not None:
                    raised.append(alert)
        self._remember(d.dedupe_key for d in fresh)
        for a in raised:
            self.raised[a.kind] += 1
        if raised and self._sink is not None:
            self._sink(raised)
        return raised

    def _drafts(self, conn: Connection, org_id: int, dirty: DirtyOrg, now: datetime) -> list[Alert]:
        org = org_by_id(conn, org_id)
        budgets = self._org_budgets(conn, org_id)
        out = budget_drafts(conn, org, budgets, dirty, now, self._ui_url)
        due = self._runaway_due(org_id, dirty)
        out += runaway_drafts(conn, org, due, now, self._runaway, self._ui_url, self._fired)
        out += unpriced_drafts(org, dirty, self._ui_url)
        return out

    def _runaway_due(self, org_id: int, dirty: DirtyOrg) -> DirtyOrg:
        """Dirty sessions/keys with a new latest minute, or not re-checked for a few seconds."""
        now = time.monotonic()
        checked = self._runaway_checked
        if len(checked) > _MAX_FIRED_KEYS:
            checked.clear()

        def due(kind: str, subjects: dict[Any, tuple[int, int]]) -> dict[Any, tuple[int, int]]:
            keep = {}
            for subject, (user, minute) in subjects.items():
                at, seen_minute = checked.get((org_id, kind, subject), (0.0, -1))
                if minute > seen_minute or now - at >= RUNAWAY_RECHECK_S:
                    checked[(org_id, kind, subject)] = (now, minute)
                    keep[subject] = (user, minute)
            return keep

        return replace(dirty, sessions=due("session", dirty.sessions), keys=due("key", dirty.keys))

    def _org_budgets(self, conn: Connection, org_id: int) -> list[Budget]:
        cached = self._budgets.get(org_id)
        if cached is not None and time.monotonic() - cached[0] < BUDGET_CACHE_S:
            return cached[1]
        budgets = load_budgets(conn, org_id)
        self._budgets[org_id] = (time.monotonic(), budgets)
        return budgets

    def _remember(self, keys: object) -> None:
        if len(self._fired) > _MAX_FIRED_KEYS:  # bounded; the store's unique key still holds
            self._fired.clear()
        self._fired.update(keys)  # type: ignore[arg-type]
