"""The audit trail: one row per change (who, when, what, before/after as JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select

from store.tables import AuditEntry, utcnow

AUDIT: Table = AuditEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit row as shown to people; before/after are decoded JSON (or None)."""

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    before: Any
    after: Any


def entity_path(org: str, kind: str, ident: object) -> str:
    """Audit entity names are paths, 'acme/budget/12', so `audit list --org` can filter."""
    return f"{org}/{kind}/{ident}"


def record(conn: Connection, actor: str, action: str, entity: str, before: Any, after: Any) -> None:
    """Write one audit row inside the caller's transaction (atomic with the change)."""
    conn.execute(
        insert(AUDIT).values(
            at=utcnow(),
            actor=actor,
            action=action,
            entity=entity,
            before=_dump(before),
            after=_dump(after),
        )
    )


def _dump(value: Any) -> str:
    return "" if value is None else json.dumps(value, default=str, sort_keys=True)


def _load(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:  # rows other components wrote as plain text
        return text


def list_audit(
    engine: Engine,
    *,
    entity_prefix: str = "",
    actor: str | None = None,
    action_prefix: str = "",
    limit: int = 100,
) -> list[AuditRecord]:
    """Newest audit rows first, optionally filtered."""
    a = AUDIT.c
    stmt = select(a.id, a.at, a.actor, a.action, a.entity, a.before, a.after)
    if entity_prefix:
        stmt = stmt.where(a.entity.startswith(entity_prefix, autoescape=True))
    if actor:
        stmt = stmt.where(a.actor == actor)
    if action_prefix:
        stmt = stmt.where(a.action.startswith(action_prefix, autoescape=True))
    stmt = stmt.order_by(a.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [
            AuditRecord(r.id, r.at, r.actor, r.action, r.entity, _load(r.before), _load(r.after))
            for r in conn.execute(stmt)
        ]
