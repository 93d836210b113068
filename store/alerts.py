"""Alerts in the store: insert once per dedupe key, claim for delivery, record deliveries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from store.tables import utcnow
from store.tables_budgets import AlertDeliveryRow, AlertRow

ALERTS: Table = AlertRow.__table__  # type: ignore[attr-defined]
DELIVERIES: Table = AlertDeliveryRow.__table__  # type: ignore[attr-defined]
ALERT_KINDS = ("threshold", "projected", "runaway", "unpriced_model")


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert to raise (id 0) or a raised one; `dedupe_key` makes it fire once."""

    org_id: int
    kind: str
    dedupe_key: str
    message: str
    budget_id: int = 0
    subject: str = ""
    user_id: int = 0
    window: str = ""
    window_start: datetime | None = None
    window_end: datetime | None = None
    threshold_pct: int = 0
    spent_nanousd: int = 0
    limit_nanousd: int = 0
    projected_nanousd: int | None = None
    exhaustion_at: datetime | None = None
    session_id: str = ""
    trace_id: str = ""
    model: str = ""
    link: str = ""
    id: int = 0
    created_at: datetime | None = None
    deliveries: tuple[Delivery, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Delivery:
    """One alert's delivery to one webhook."""

    webhook: str
    status: str
    attempts: int
    last_error: str
    last_attempt_at: datetime | None
    delivered_at: datetime | None


_STORED = tuple(f.name for f in fields(Alert) if f.name not in ("id", "created_at", "deliveries"))


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def insert_alert(conn: Connection, alert: Alert) -> Alert | None:
    """Store `alert` unless its dedupe key already fired; return it with its id, or None."""
    values = {k: getattr(alert, k) for k in _STORED}
    created = utcnow()
    stmt = (
        _insert(conn, ALERTS)
        .values(**values, created_at=created)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(ALERTS.c.id)
    )
    new_id = conn.execute(stmt).scalar()
    if new_id is None:
        return None
    return Alert(**{**asdict(alert), "id": int(new_id), "created_at": created, "deliveries": ()})


def _alert(row: Any, deliveries: tuple[Delivery, ...] = ()) -> Alert:
    values = {k: row._mapping[k] for k in (*_STORED, "id", "created_at")}
    return Alert(**values, deliveries=deliveries)


def load_alerts(conn: Connection, ids: list[int]) -> list[Alert]:
    """Alerts by id, in id order."""
    if not ids:
        return []
    rows = conn.execute(select(ALERTS).where(ALERTS.c.id.in_(ids)).order_by(ALERTS.c.id))
    return [_alert(r) for r in rows]


def list_alerts(
    engine: Engine,
    *,
    org_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    user_id: int | None = None,
    limit: int = 100,
) -> list[Alert]:
    """Newest alerts first, each with its deliveries."""
    a = ALERTS.c
    stmt = select(ALERTS).order_by(a.id.desc()).limit(limit)
    if org_id is not None:
        stmt = stmt.where(a.org_id == org_id)
    if kind:
        stmt = stmt.where(a.kind == kind)
    if since is not None:
        stmt = stmt.where(a.created_at >= since)
    if user_id is not None:
        stmt = stmt.where(a.user_id == user_id)
    with engine.connect() as conn:
        rows = list(conn.execute(stmt))
        sent = _deliveries(conn, [r.id for r in rows])
    return [_alert(r, tuple(sent.get(r.id, ()))) for r in rows]


def _deliveries(conn: Connection, alert_ids: list[int]) -> dict[int, list[Delivery]]:
    out: dict[int, list[Delivery]] = {}
    if not alert_ids:
        return out
    d = DELIVERIES.c
    stmt = (
        select(
            d.alert_id,
            d.webhook,
            d.status,
            d.attempts,
            d.last_error,
            d.last_attempt_at,
            d.delivered_at,
        )
        .where(d.alert_id.in_(alert_ids))
        .order_by(d.id)
    )
    for r in conn.execute(stmt):
        out.setdefault(r[0], []).append(Delivery(*r[1:]))
    return out


def claim_for_delivery(conn: Connection, ids: list[int]) -> list[int]:
    """Mark alerts as taken for webhook delivery; returns those this caller won.

    Conditional UPDATE ... RETURNING: with several servers on one PostgreSQL, exactly one
    of them delivers each alert.
    """
    if not ids:
        return []
    stmt = (
        update(ALERTS)
        .where(ALERTS.c.id.in_(ids), ALERTS.c.dispatched_at.is_(None))
        .values(dispatched_at=utcnow())
        .returning(ALERTS.c.id)
    )
    return sorted(int(i) for i in conn.execute(stmt).scalars())


def undispatched(conn: Connection, max_age: timedelta, limit: int = 100) -> list[int]:
    """Ids of recent alerts nobody has claimed (raised by the CLI or another component)."""
    a = ALERTS.c
    stmt = (
        select(a.id)
        .where(a.dispatched_at.is_(None), a.created_at >= utcnow() - max_age)
        .order_by(a.id)
        .limit(limit)
    )
    return [int(i) for i in conn.execute(stmt).scalars()]


def add_delivery(conn: Connection, alert_id: int, webhook: str) -> int:
    """Create the pending delivery row of one alert to one webhook."""
    stmt = insert(DELIVERIES).values(alert_id=alert_id, webhook=webhook, status="pending")
    return int(conn.execute(stmt.returning(DELIVERIES.c.id)).scalar_one())


def record_attempt(
    conn: Connection, delivery_id: int, attempts: int, status: str, error: str
) -> None:
    """Record one delivery attempt and its outcome (pending = will retry)."""
    now = utcnow()
    values: dict[str, Any] = {
        "attempts": attempts,
        "status": status,
        "last_error": error[:2000],
        "last_attempt_at": now,
    }
    if status == "delivered":
        values["delivered_at"] = now
    conn.execute(update(DELIVERIES).where(DELIVERIES.c.id == delivery_id).values(**values))
