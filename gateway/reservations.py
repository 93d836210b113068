"""Reserve a call's estimated maximum cost against every matching hard budget, then settle.

The decision and the hold are one transaction under the budgets' locks (store.gateway), so
with N concurrent calls — in one process or across replicas sharing PostgreSQL — the sum of
settled spend and live holds never passes a limit; the only possible overshoot is a call
whose actual cost exceeds its own estimate.  Settling deletes the hold only after the call's
cost is committed to the rollups: in between it is counted twice, never zero times.

One thread per process takes the asks queued meanwhile and decides them together in ONE
transaction (group commit): the budgets are read once, the spend and the live holds of each
(budget, subject) once, then each ask in arrival order is checked against what is left after
the asks before it.  Releases queued meanwhile go in the same transaction, first.  Nothing
about spend is kept between transactions, so replicas never drift apart.

An ask may want more than its call's estimate: the proxy's lease (gateway.leases), from which
it admits the next calls of the same scope without asking again.  The grant is the estimate
when that is all the budgets can take, else at most half of what is left (other replicas
and scopes keep room), never more than wanted.  A lease is one hold like any other; as its
calls are committed the store side charges their cost to it (the hold shrinks by what is
now spend), and it is released when its last call has settled.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from collector_processor.budget_check import usd
from collector_processor.budgets.evaluate import BudgetState, CallScope, applicable
from collector_processor.budgets.windows import adjective, window_at
from gateway.hard_budgets import HardBudgets, OrgBudgets
from store import gateway as ops
from store.budgets import Budget
from store.subjects import org_by_id, subject_names
from store.write_gate import write_gate

DEFAULT_RESERVATION_TTL_S = 900.0  # longer than any sane call; a crashed replica's holds end
_MAX_BATCH = 256
_NS_PER_MINUTE = 60_000_000_000
log = logging.getLogger("otelspend.gateway")


@dataclass(frozen=True, slots=True)
class Blocked:
    """A hard budget refuses the call; `message` is what the user reads."""

    budget_id: int
    scope: str
    window: str
    limit_nanousd: int
    spent_nanousd: int
    reserved_nanousd: int
    resets_at: datetime
    message: str


@dataclass(frozen=True, slots=True)
class Reserved:
    """The call may go ahead; `reservation_id` is None when no hard budget applies.

    `amount_nanousd` is what was granted (the estimate, or more for a lease); the hold only
    counts in the budgets' windows, so it admits nothing from `valid_until_ns` (the first
    of those windows to end; 0 when no budget applies).
    """

    reservation_id: str | None
    amount_nanousd: int
    budgets: int
    valid_until_ns: int = 0


@dataclass(slots=True)
class _Ask:
    scope: CallScope
    estimate: int
    want: int
    future: Future[Reserved | Blocked]
    pairs: list[tuple[Budget, int]] = field(default_factory=list)


@dataclass(slots=True)
class _Release:
    ids: list[str]
    future: Future[int]


@dataclass(slots=True)
class _Charge:
    charges: list[tuple[str, int]]  # (reservation id, committed cost)
    future: Future[int]


_STOP = object()


class Reserver:
    """Takes and releases reservations in the shared store, batched on one thread."""

    def __init__(
        self, engine: Engine, *, ttl_s: float = DEFAULT_RESERVATION_TTL_S, request_hint: str = ""
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("reservation TTL must be > 0 seconds")
        self._engine = engine
        self._ttl_ns = int(ttl_s * 1e9)
        self._hint = request_hint  # e.g. a UI link appended to block messages
        self._definitions = HardBudgets()  # touched by the reserver thread only
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="otelspend-reserver", daemon=True)
        self._thread.start()

    def submit(
        self, scope: CallScope, estimate_nanousd: int, want_nanousd: int = 0
    ) -> Future[Reserved | Blocked]:
        """Queue an ask: hold `estimate_nanousd` (up to `want_nanousd` when there is room)
        on every hard budget of `scope`, or block."""
        fut: Future[Reserved | Blocked] = Future()
        self._queue.put(_Ask(scope, estimate_nanousd, max(want_nanousd, estimate_nanousd), fut))
        return fut

    def submit_charge(self, charges: list[tuple[str, int]]) -> Future[int]:
        """Queue shrinking holds by costs now committed as spend (a lease's settled calls)."""
        fut: Future[int] = Future()
        self._queue.put(_Charge(list(charges), fut))
        return fut

    def reserve(self, scope: CallScope, estimate_nanousd: int) -> Reserved | Blocked:
        """`submit` and wait for the answer."""
        return self.submit(scope, estimate_nanousd).result()

    def submit_release(self, reservation_ids: list[str]) -> Future[int]:
        """Queue dropping settled holds (only after the calls' costs are committed).

        The future's result is how many reservations were asked to go (ids already gone,
        e.g. expired and purged, count too: releasing is idempotent).
        """
        fut: Future[int] = Future()
        self._queue.put(_Release(list(reservation_ids), fut))
        return fut

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < _MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in batch
            work = [x for x in batch if x is not _STOP]
            try:
                self._decide(work)  # type: ignore[arg-type]
            except Exception as exc:  # noqa: BLE001 - every waiter hears of the failure
                log.exception("budget reservation transaction failed")
                for item in work:
                    fut = item.future  # type: ignore[attr-defined]
                    if not fut.done():
                        fut.set_exception(exc)
            if stop:
                return

    def _decide(self, batch: list[_Ask | _Release | _Charge]) -> None:
        asks = [x for x in batch if isinstance(x, _Ask)]
        releases = [x for x in batch if isinstance(x, _Release)]
        charges = [x for x in batch if isinstance(x, _Charge)]
        orgs = self._hard_budgets({a.scope.org_id for a in asks}) if asks else {}
        now = datetime.now(UTC)
        for a in asks:
            a.pairs = applicable(orgs[a.scope.org_id].budgets, a.scope, now)
        todo = [a for a in asks if a.pairs]
        if not todo and not releases and not charges:
            for a in asks:
                a.future.set_result(Reserved(None, a.estimate, 0))
            return
        targets = sorted({(b.id, s) for a in todo for b, s in a.pairs})
        with write_gate(self._engine), ops.locked(self._engine, targets) as conn:
            ops.release(conn, [i for r in releases for i in r.ids])  # one statement for all
            ops.charge(conn, [c for x in charges for c in x.charges])
            outcomes = self._check(conn, orgs, todo) if todo else []
        for r in releases:
            r.future.set_result(len(r.ids))
        for x in charges:
            x.future.set_result(len(x.charges))
        for a in asks:
            if not a.pairs:
                a.future.set_result(Reserved(None, a.estimate, 0))
        for a, outcome in zip(todo, outcomes, strict=True):
            a.future.set_result(outcome)

    def _hard_budgets(self, org_ids: set[int]) -> dict[int, OrgBudgets]:
        with self._engine.connect() as conn:
            return {o: self._definitions.of(conn, o) for o in org_ids}

    def _check(
        self, conn: Connection, orgs: dict[int, OrgBudgets], todo: list[_Ask]
    ) -> list[Reserved | Blocked]:
        """Decide each ask in order against spend + live holds + the holds granted before it."""
        now, now_ns = datetime.now(UTC), time.time_ns()
        per_budget: dict[int, tuple[Budget, set[int]]] = {}
        for a in todo:
            for b, subject in a.pairs:
                per_budget.setdefault(b.id, (b, set()))[1].add(subject)
        states: dict[tuple[int, int], BudgetState] = {}
        for b, subjects in per_budget.values():
            defs = orgs[b.org_id]
            states.update(_states(conn, defs, b, sorted(subjects), defs.raises(now), now))
        reserved = ops.reserved_nanousd(conn, (_hold(st, 0) for st in states.values()), now_ns)
        out: list[Reserved | Blocked] = []
        holds: list[tuple[str, ops.Hold]] = []
        for a in todo:
            mine = [states[(b.id, s)] for b, s in a.pairs]
            blocked = _first_blocking(mine, reserved, a.estimate)
            if blocked is not None:
                held = reserved[(blocked.budget.id, blocked.subject_id)]
                out.append(self._blocked(conn, blocked, held, a.estimate, now))
                continue
            grant = _grant(mine, reserved, a.estimate, a.want)
            rid = uuid.uuid4().hex
            for st in mine:
                reserved[(st.budget.id, st.subject_id)] += grant
                holds.append((rid, _hold(st, grant)))
            until = min(st.window.end_minute for st in mine) * _NS_PER_MINUTE
            out.append(Reserved(rid, grant, len(mine), until))
        ops.insert_holds(conn, holds, self._ttl_ns, now_ns)
        return out

    def _blocked(
        self, conn: Connection, s: BudgetState, held: int, estimate: int, now: datetime
    ) -> Blocked:
        zone = org_by_id(conn, s.budget.org_id).timezone
        who = subject_names(conn, s.budget.scope, [s.subject_id]).get(s.subject_id)
        text = block_text(s, who or str(s.subject_id), held, estimate, zone, now) + self._hint
        b = s.budget
        return Blocked(
            b.id, b.scope, b.window, s.limit_nanousd, s.spent_nanousd, held, s.resets_at, text
        )


def _states(
    conn: Connection,
    defs: OrgBudgets,
    b: Budget,
    subjects: list[int],
    raises: dict[tuple[int, int], int],
    now: datetime,
) -> dict[tuple[int, int], BudgetState]:
    """Current-window state of budget `b` for `subjects` (no burn rate: not needed here)."""
    window = window_at(b.window, now, defs.org.timezone)
    spent = ops.spent_nanousd(
        conn, b.org_id, b.scope, subjects, b.agent, b.model, window.start_minute, window.end_minute
    )
    return {
        (b.id, s): BudgetState(
            b, s, window, b.limit_nanousd + raises[(b.id, s)], spent.get(s, 0), 0, now, now
        )
        for s in subjects
    }


def _hold(st: BudgetState, amount: int) -> ops.Hold:
    return ops.Hold(st.budget.id, st.subject_id, st.window.start_minute, amount)


def _grant(
    states: list[BudgetState], reserved: dict[tuple[int, int], int], estimate: int, want: int
) -> int:
    """What an ask that fits gets: up to `want`, at most half the room left, at least the
    estimate."""
    if want <= estimate:
        return estimate
    room = min(
        s.limit_nanousd - s.spent_nanousd - reserved[(s.budget.id, s.subject_id)] for s in states
    )
    return max(estimate, min(want, room // 2))


def _first_blocking(
    states: list[BudgetState], reserved: dict[tuple[int, int], int], estimate: int
) -> BudgetState | None:
    """The most restrictive budget that cannot take this call, if any."""
    over = [
        s
        for s in states
        if s.exceeded
        or s.spent_nanousd + reserved[(s.budget.id, s.subject_id)] + estimate > s.limit_nanousd
    ]
    if not over:
        return None
    return min(over, key=lambda s: s.remaining_nanousd - reserved[(s.budget.id, s.subject_id)])


def block_text(s: BudgetState, who: str, held: int, estimate: int, zone: str, now: datetime) -> str:
    """The sentence a blocked user reads: budget, limit, spent, reset, how to ask for more."""
    b = s.budget
    filters = "".join(f" ({k} {v})" for k, v in (("agent", b.agent), ("model", b.model)) if v)
    head = f"otelspend: the hard {adjective(b.window)} budget of {b.scope} {who}{filters}"
    if s.exceeded:
        state = f"is used up: spent ${usd(s.spent_nanousd)} of ${usd(s.limit_nanousd)}"
    else:
        state = (
            f"cannot take this call: spent ${usd(s.spent_nanousd)} of ${usd(s.limit_nanousd)}, "
            f"${usd(held)} held by the gateway for calls in flight, this call may cost up to "
            f"${usd(estimate)}"
        )
    local = s.resets_at.astimezone(ZoneInfo(zone))
    minutes = max(int((s.resets_at - now).total_seconds()) // 60, 0)
    return (
        f"{head} {state}. It resets {local:%Y-%m-%d %H:%M} {zone} (in {minutes // 60}h "
        f"{minutes % 60}m). To ask for more: otelspend requests create --budget {b.id} "
        f'--amount <USD> --until <date> --reason "..."'
    )
