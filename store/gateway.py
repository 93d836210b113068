"""Store operations of the gateway: budget reservations (cross-replica) and the response cache.

A reservation is taken inside one write transaction that first locks the (budget, subject)
rows it touches: BEGIN IMMEDIATE on SQLite (the database write lock), SELECT ... FOR UPDATE
on PostgreSQL (row locks, taken in a fixed order so two replicas cannot deadlock).  While the
locks are held, settled spend (the rollups) plus live reservations plus the new hold are
compared with the limit; nothing is cached per process, so replicas never drift apart.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (
    Connection,
    Engine,
    TextClause,
    and_,
    bindparam,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.budgets import SCOPE_COLUMNS
from store.tables_gateway import GatewayBudgetLock, GatewayCacheEntry, GatewayReservation

_LOCKS = GatewayBudgetLock.__table__  # type: ignore[attr-defined]
_RES = GatewayReservation.__table__  # type: ignore[attr-defined]
_CACHE = GatewayCacheEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Hold:
    """Money to hold against one budget for one subject in one window."""

    budget_id: int
    subject_id: int
    window_start_minute: int
    amount_nanousd: int


@contextmanager
def locked(engine: Engine, targets: Sequence[tuple[int, int]]) -> Iterator[Connection]:
    """A write transaction holding the lock of every (budget, subject) in `targets`."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # The driver has not begun a transaction yet: take the write lock up front, so
            # the read-check-insert below cannot interleave with another process's.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise
            return
        with conn.begin():
            if targets:
                _lock_rows(conn, sorted(set(targets)))
            yield conn


def _lock_rows(conn: Connection, targets: list[tuple[int, int]]) -> None:
    rows = [{"budget_id": b, "subject_id": s} for b, s in targets]
    conn.execute(pg_insert(_LOCKS).values(rows).on_conflict_do_nothing())
    keys = or_(*(and_(_LOCKS.c.budget_id == b, _LOCKS.c.subject_id == s) for b, s in targets))
    order = (_LOCKS.c.budget_id, _LOCKS.c.subject_id)
    conn.execute(select(_LOCKS.c.budget_id).where(keys).order_by(*order).with_for_update())


_SPEND_SQL: dict[tuple[str, bool, bool, bool], TextClause] = {}
_MINUTES_PER_HOUR = 60


def spent_nanousd(
    conn: Connection,
    org_id: int,
    scope: str,
    subjects: Sequence[int],
    agent: str,
    model: str,
    start_minute: int,
    end_minute: int,
) -> dict[int, int]:
    """Billed spend per subject of one budget over [start, end) minutes (the rollups).

    The reservation path's own copy of store.budgets.window_spend, as one prepared text
    statement per shape (building SQLAlchemy expressions per call cost more than the query).
    On SQLite the window is read as whole hours of `spend_hours` plus the ragged minutes at
    each end (a month is ~720 hour rows, not ~43,000 minute rows per subject); PostgreSQL
    keeps no hour tier and reads minutes.
    """
    first_hour = -(-start_minute // _MINUTES_PER_HOUR)
    end_hour = end_minute // _MINUTES_PER_HOUR
    hours = conn.dialect.name == "sqlite" and first_hour < end_hour
    shape = (scope, bool(agent), bool(model), hours)
    stmt = _SPEND_SQL.get(shape)
    if stmt is None:
        stmt = _SPEND_SQL[shape] = _spend_statement(*shape)
    params = {"org": org_id, "start": start_minute, "end": end_minute,
              "subjects": list(subjects), "agent": agent, "model": model,
              "h0": first_hour, "h1": end_hour, "m0": first_hour * _MINUTES_PER_HOUR,
              "m1": end_hour * _MINUTES_PER_HOUR}  # fmt: skip
    return {int(r[0]): int(r[1] or 0) for r in conn.execute(stmt, params)}


def _spend_statement(scope: str, agent: bool, model: bool, hours: bool) -> TextClause:
    col = SCOPE_COLUMNS[scope]
    filters = f"org_id = :org AND {col} IN :subjects" + (" AND agent = :agent" if agent else "")
    filters += " AND model = :model" if model else ""

    def piece(table: str, ranged: str) -> str:
        return f"SELECT {col} AS s, cost_nanousd AS c FROM {table} WHERE {filters} AND {ranged}"

    if not hours:
        pieces = [piece("spend_minutes", "minute >= :start AND minute < :end")]
    else:  # three index range scans: whole hours, then the ragged minutes at each end
        pieces = [
            piece("spend_hours", "hour >= :h0 AND hour < :h1"),
            piece("spend_minutes", "minute >= :start AND minute < :m0"),
            piece("spend_minutes", "minute >= :m1 AND minute < :end"),
        ]
    sql = f"SELECT s, sum(c) FROM ({' UNION ALL '.join(pieces)}) AS p GROUP BY s"
    return text(sql).bindparams(bindparam("subjects", expanding=True))


_RESERVED = text(
    "SELECT budget_id, subject_id, window_start_minute, sum(amount_nanousd)"
    " FROM gateway_reservations WHERE budget_id IN :budgets AND expires_ns > :now"
    " GROUP BY budget_id, subject_id, window_start_minute"
).bindparams(bindparam("budgets", expanding=True))
_PURGE = text(
    "DELETE FROM gateway_reservations WHERE budget_id IN :budgets AND expires_ns <= :now"
).bindparams(bindparam("budgets", expanding=True))
_INSERT = text(
    "INSERT INTO gateway_reservations (reservation_id, budget_id, subject_id,"
    " window_start_minute, amount_nanousd, expires_ns, created_ns)"
    " VALUES (:rid, :budget, :subject, :window, :amount, :expires, :created)"
)
_RELEASE = text("DELETE FROM gateway_reservations WHERE reservation_id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)


_CHARGE = text(
    "UPDATE gateway_reservations SET amount_nanousd = CASE WHEN amount_nanousd > :cost"
    " THEN amount_nanousd - :cost ELSE 0 END WHERE reservation_id = :rid"
)


def charge(conn: Connection, charges: Sequence[tuple[str, int]]) -> None:
    """Shrink holds by costs committed as spend meanwhile: (reservation id, cost) pairs.

    A lease's hold stands for its calls until they are spend; a cost above what is left
    (a call over its estimate) empties the hold, never makes it negative.
    """
    rows = [{"rid": rid, "cost": cost} for rid, cost in charges if cost > 0]
    if rows:
        conn.execute(_CHARGE, rows)


def reserved_nanousd(
    conn: Connection, holds: Iterable[Hold], now_ns: int
) -> dict[tuple[int, int], int]:
    """Live (unexpired) reservations per (budget, subject) in each hold's window, one query."""
    wanted = {(h.budget_id, h.subject_id): h.window_start_minute for h in holds}
    out = dict.fromkeys(wanted, 0)
    if not wanted:
        return out
    params = {"budgets": sorted({b for b, _ in wanted}), "now": now_ns}
    for bid, sid, window_start, total in conn.execute(_RESERVED, params):
        if wanted.get((bid, sid)) == window_start:
            out[(bid, sid)] = int(total)
    return out


def insert_holds(
    conn: Connection, holds: Sequence[tuple[str, Hold]], ttl_ns: int, now_ns: int
) -> None:
    """Record (reservation id, hold) pairs, purging expired holds of the same budgets first."""
    if not holds:
        return
    conn.execute(_PURGE, {"budgets": sorted({h.budget_id for _, h in holds}), "now": now_ns})
    rows = [
        {"rid": rid, "budget": h.budget_id, "subject": h.subject_id,
         "window": h.window_start_minute, "amount": h.amount_nanousd,
         "expires": now_ns + ttl_ns, "created": now_ns}
        for rid, h in holds
    ]  # fmt: skip
    conn.execute(_INSERT, rows)


def release(conn: Connection, reservation_ids: Sequence[str]) -> int:
    """Delete settled reservations in `conn`'s transaction; returns how many hold rows went."""
    if not reservation_ids:
        return 0
    result = conn.execute(_RELEASE, {"ids": list(reservation_ids)})
    return int(result.rowcount or 0)


def live_reservations(engine: Engine, now_ns: int | None = None) -> list[tuple[str, int, int]]:
    """(reservation id, budget id, amount) of every unexpired hold (tests, health)."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    stmt = select(_RES.c.reservation_id, _RES.c.budget_id, _RES.c.amount_nanousd).where(
        _RES.c.expires_ns > now_ns
    )
    with engine.connect() as conn:
        return [(str(r[0]), int(r[1]), int(r[2])) for r in conn.execute(stmt)]


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """A stored response and what the original call cost."""

    status: int
    content_type: str
    body: bytes
    cost_nanousd: int


def cache_get(
    engine: Engine, workspace_id: int, request_hash: str, now_ns: int
) -> CachedResponse | None:
    """A live entry, counting the hit and the money it saved; None on a miss."""
    key = (_CACHE.c.workspace_id == workspace_id) & (_CACHE.c.request_hash == request_hash)
    with engine.begin() as conn:
        row = conn.execute(
            select(
                _CACHE.c.status, _CACHE.c.content_type, _CACHE.c.body, _CACHE.c.cost_nanousd
            ).where(key, _CACHE.c.expires_ns > now_ns)
        ).first()
        if row is None:
            return None
        conn.execute(
            update(_CACHE)
            .where(key)
            .values(hits=_CACHE.c.hits + 1, saved_nanousd=_CACHE.c.saved_nanousd + row[3])
        )
    return CachedResponse(int(row[0]), str(row[1]), bytes(row[2]), int(row[3]))


def cache_put(
    engine: Engine,
    workspace_id: int,
    request_hash: str,
    response: CachedResponse,
    ttl_ns: int,
) -> None:
    """Store (or replace) an entry."""
    now = time.time_ns()
    values = {
        "workspace_id": workspace_id,
        "request_hash": request_hash,
        "status": response.status,
        "content_type": response.content_type,
        "body": response.body,
        "cost_nanousd": response.cost_nanousd,
        "created_ns": now,
        "expires_ns": now + ttl_ns,
        "hits": 0,
        "saved_nanousd": 0,
    }
    with engine.begin() as conn:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(_CACHE).values(values)
        changed = {k: stmt.excluded[k] for k in ("status", "content_type", "body")}
        changed.update(cost_nanousd=stmt.excluded.cost_nanousd, expires_ns=stmt.excluded.expires_ns)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["workspace_id", "request_hash"], set_=changed
            )
        )


def cache_savings(engine: Engine, workspace_id: int | None = None) -> tuple[int, int]:
    """(hits, saved nano-USD) over the cache, optionally of one workspace."""
    stmt = select(
        func.coalesce(func.sum(_CACHE.c.hits), 0),
        func.coalesce(func.sum(_CACHE.c.saved_nanousd), 0),
    )
    if workspace_id is not None:
        stmt = stmt.where(_CACHE.c.workspace_id == workspace_id)
    with engine.connect() as conn:
        hits, saved = conn.execute(stmt).one()
    return int(hits), int(saved)
