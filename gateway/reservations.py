"""Reserve a call's estimated maximum cost against every matching hard budget, then settle.

The decision and the hold are one transaction under the budgets' locks (store.gateway), so
with N concurrent calls — in one process or across replicas sharing PostgreSQL — the sum of
settled spend and live holds never passes a limit; the only possible overshoot is a call
whose actual cost exceeds its own estimate.  Settling deletes the hold only after the call's
cost is committed to the rollups: in between it is counted twice, never zero times.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from collector_processor.budget_check import usd
from collector_processor.budgets.evaluate import BudgetState, CallScope, hard_budgets_for
from collector_processor.budgets.windows import adjective
from store import gateway as ops
from store.subjects import org_by_id, subject_names

DEFAULT_RESERVATION_TTL_S = 900.0  # longer than any sane call; a crashed replica's holds end


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
    """The call may go ahead; `reservation_id` is None when no hard budget applies."""

    reservation_id: str | None
    amount_nanousd: int
    budgets: int


class Reserver:
    """Takes and releases reservations in the shared store."""

    def __init__(
        self, engine: Engine, *, ttl_s: float = DEFAULT_RESERVATION_TTL_S, request_hint: str = ""
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("reservation TTL must be > 0 seconds")
        self._engine = engine
        self._ttl_ns = int(ttl_s * 1e9)
        self._hint = request_hint  # e.g. a UI link appended to block messages
        # SQLite: threads of one process queue here instead of in SQLite's busy handler, which
        # sleeps up to 100 ms between retries.  PostgreSQL row locks need no such help.
        self._local = threading.Lock() if engine.dialect.name == "sqlite" else None

    def reserve(self, scope: CallScope, estimate_nanousd: int) -> Reserved | Blocked:
        """Hold `estimate_nanousd` on every hard budget of `scope`, or say which one blocks."""
        with self._engine.connect() as conn:
            states = hard_budgets_for(conn, scope)  # cheap pre-check: most keys have none
        if not states:
            return Reserved(None, estimate_nanousd, 0)
        targets = [(s.budget.id, s.subject_id) for s in states]
        if self._local is None:
            return self._reserve_locked(scope, estimate_nanousd, targets)
        with self._local:
            return self._reserve_locked(scope, estimate_nanousd, targets)

    def _reserve_locked(
        self, scope: CallScope, estimate_nanousd: int, targets: list[tuple[int, int]]
    ) -> Reserved | Blocked:
        with ops.locked(self._engine, targets) as conn:
            now = datetime.now(UTC)
            states = hard_budgets_for(conn, scope, now)  # re-read under the lock
            now_ns = time.time_ns()
            holds = [
                ops.Hold(s.budget.id, s.subject_id, s.window.start_minute, estimate_nanousd)
                for s in states
            ]
            reserved = ops.reserved_nanousd(conn, holds, now_ns)
            blocked = _first_blocking(states, reserved, estimate_nanousd)
            if blocked is not None:
                held = reserved[(blocked.budget.id, blocked.subject_id)]
                return self._blocked(conn, blocked, held, estimate_nanousd, now)
            if not holds:
                return Reserved(None, estimate_nanousd, 0)
            rid = uuid.uuid4().hex
            ops.insert_holds(conn, rid, holds, self._ttl_ns, now_ns)
        return Reserved(rid, estimate_nanousd, len(holds))

    def release(self, reservation_ids: list[str]) -> int:
        """Drop settled holds (call only after the calls' costs are committed)."""
        if self._local is None:
            return ops.release(self._engine, reservation_ids)
        with self._local:
            return ops.release(self._engine, reservation_ids)

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
            f"${usd(held)} held by calls in flight, this call may cost up to ${usd(estimate)}"
        )
    local = s.resets_at.astimezone(ZoneInfo(zone))
    minutes = max(int((s.resets_at - now).total_seconds()) // 60, 0)
    return (
        f"{head} {state}. It resets {local:%Y-%m-%d %H:%M} {zone} (in {minutes // 60}h "
        f"{minutes % 60}m). To ask for more: otelspend requests create --budget {b.id} "
        f'--amount <USD> --until <date> --reason "..."'
    )
