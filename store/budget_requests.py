"""Budget-increase requests: file, approve (an additive, expiring override), deny; audited.

Approval is one transaction that starts with a conditional UPDATE
(`status = 'pending' AND requested_by <> approver`): of two concurrent approvals exactly one
changes the row — PostgreSQL re-checks the condition after the first commits, SQLite
serializes writers — and the override it inserts is unique per request besides.  Starting
with the write (not a read) also keeps SQLite from failing a stale read snapshot.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select, update

from store.audit import entity_path, record
from store.budgets import BUDGETS, OVERRIDES, Budget, get_budget, load_budgets, load_overrides
from store.members import Actor, PermissionDenied
from store.subjects import OrgInfo, keys_of_user
from store.tables import utcnow
from store.tables_budgets import BudgetRequestRow

REQUESTS: Table = BudgetRequestRow.__table__  # type: ignore[attr-defined]
STATUSES = ("pending", "approved", "denied")


class RequestError(Exception):
    """The request cannot be filed or decided (not found, already decided, invalid)."""


@dataclass(frozen=True, slots=True)
class BudgetRequest:
    """A request to raise one budget for one subject until a date."""

    id: int
    org_id: int
    budget_id: int
    subject_id: int
    amount_nanousd: int
    until: datetime
    reason: str
    traces: tuple[str, ...]
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str
    decided_at: datetime | None
    decision_note: str

    def as_json(self) -> dict[str, Any]:
        """Plain values for audit rows and --json output."""
        out = asdict(self)
        out["traces"] = list(self.traces)
        return out


def _request(row: Any) -> BudgetRequest:
    m = row._mapping
    return BudgetRequest(
        **{k: m[k] for k in BudgetRequest.__slots__ if k != "traces"},  # type: ignore[arg-type]
        traces=tuple(json.loads(m["traces"] or "[]")),
    )


def get_request(conn: Connection, request_id: int) -> BudgetRequest | None:
    """The request with this id, or None."""
    row = conn.execute(select(REQUESTS).where(REQUESTS.c.id == request_id)).first()
    return _request(row) if row is not None else None


def list_requests(
    conn: Connection, org_id: int, *, status: str | None = None, requested_by: str | None = None
) -> list[BudgetRequest]:
    """Requests of an org, newest first."""
    r = REQUESTS.c
    stmt = select(REQUESTS).where(r.org_id == org_id).order_by(r.id.desc())
    if status:
        stmt = stmt.where(r.status == status)
    if requested_by:
        stmt = stmt.where(r.requested_by == requested_by)
    return [_request(row) for row in conn.execute(stmt)]


def effective_limit(conn: Connection, budget: Budget, subject_id: int, now: datetime) -> int:
    """Base limit plus the overrides in force for this subject."""
    raises = load_overrides(conn, [budget.id], now)
    return budget.limit_nanousd + sum(
        o.amount_nanousd for o in raises if o.subject_id == subject_id
    )


def _may_file(conn: Connection, actor: Actor, budget: Budget, subject_id: int) -> None:
    """Members may ask only for their own user or keys (or a shared workspace/org budget)."""
    if actor.is_admin or budget.scope in ("org", "workspace"):
        return
    own = budget.scope == "user" and subject_id == actor.user_id
    if budget.scope == "key" and actor.user_id is not None:
        own = subject_id in keys_of_user(conn, actor.user_id)
    if not own:
        raise PermissionDenied(f"{actor.name} can request increases only for their own spend")


def _check_request(
    org: OrgInfo, budget: Budget, amount_nanousd: int, until: datetime, reason: str
) -> None:
    if budget.org_id != org.id:
        raise RequestError(f"budget {budget.id} belongs to another org")
    if amount_nanousd <= 0:
        raise RequestError("the amount must be positive")
    if until <= utcnow():
        raise RequestError("--until must be in the future")
    if not reason.strip():
        raise RequestError("say why: --reason is required")


def _not_shadowed(conn: Connection, budget: Budget, subject_id: int) -> None:
    """A raise of a default is pointless for a subject whose own exception replaces it."""
    if not budget.is_default:
        return
    now = utcnow()
    for b in load_budgets(conn, budget.org_id):
        if not b.is_default and b.target == budget.target and b.scope_id == subject_id:
            if b.active(now):
                raise RequestError(
                    f"this {b.scope} has its own budget {b.id} instead of default {budget.id}: "
                    f"ask to raise budget {b.id}"
                )


def create_request(
    conn: Connection,
    org: OrgInfo,
    actor: Actor,
    budget: Budget,
    subject_id: int,
    amount_nanousd: int,
    until: datetime,
    reason: str,
    traces: tuple[str, ...] = (),
) -> BudgetRequest:
    """File a request (any member, for their own spend); audited."""
    _check_request(org, budget, amount_nanousd, until, reason)
    _may_file(conn, actor, budget, subject_id)
    _not_shadowed(conn, budget, subject_id)
    values = {
        "org_id": org.id,
        "budget_id": budget.id,
        "subject_id": subject_id,
        "amount_nanousd": amount_nanousd,
        "until": until,
        "reason": reason.strip(),
        "traces": json.dumps(list(traces)),
        "requested_by": actor.name,
        "requested_at": utcnow(),
    }
    new_id = conn.execute(insert(REQUESTS).values(**values).returning(REQUESTS.c.id)).scalar_one()
    req = get_request(conn, new_id)
    assert req is not None
    record(
        conn,
        actor.name,
        "request.create",
        entity_path(org.name, "request", new_id),
        None,
        req.as_json(),
    )
    return req


def decide_request(
    engine: Engine, org: OrgInfo, actor: Actor, request_id: int, approve: bool, note: str
) -> BudgetRequest:
    """Approve (apply the override) or deny a pending request, atomically; audited.

    Refusals (not an admin, self-approval) are audited too, in their own transaction.
    """
    verb = "approve" if approve else "deny"
    try:
        actor.require_admin(f"{verb} budget-increase requests")
        with engine.begin() as conn:
            return _decide(conn, org, actor, request_id, approve, note)
    except PermissionDenied as exc:
        with engine.begin() as conn:
            record(
                conn,
                actor.name,
                f"request.{verb}_refused",
                entity_path(org.name, "request", request_id),
                None,
                {"reason": str(exc)},
            )
        raise


def _decide(
    conn: Connection, org: OrgInfo, actor: Actor, request_id: int, approve: bool, note: str
) -> BudgetRequest:
    r = REQUESTS.c
    now = utcnow()
    cond = [r.id == request_id, r.org_id == org.id, r.status == "pending"]
    if approve:
        cond += [r.requested_by != actor.name, r.until > now]
    status = "approved" if approve else "denied"
    changed = conn.execute(
        update(REQUESTS)
        .where(*cond)
        .values(status=status, decided_by=actor.name, decided_at=now, decision_note=note)
    ).rowcount
    if changed != 1:
        _why_not(conn, org, actor, request_id, now)
    req = get_request(conn, request_id)
    assert req is not None
    before = {
        **req.as_json(),
        "status": "pending",
        "decided_by": "",
        "decided_at": None,
        "decision_note": "",
    }
    if approve:
        _apply_override(conn, org, actor, req, now)
    record(
        conn,
        actor.name,
        f"request.{'approve' if approve else 'deny'}",
        entity_path(org.name, "request", request_id),
        before,
        req.as_json(),
    )
    return req


def _why_not(conn: Connection, org: OrgInfo, actor: Actor, request_id: int, now: datetime) -> None:
    """Explain why the conditional UPDATE changed nothing (the transaction rolls back)."""
    req = get_request(conn, request_id)
    if req is None or req.org_id != org.id:
        raise RequestError(f"no request {request_id} in org {org.name}")
    if req.status != "pending":
        raise RequestError(f"request {request_id} was already {req.status} by {req.decided_by}")
    if req.requested_by == actor.name:
        raise PermissionDenied(f"{actor.name} filed request {request_id}: another admin decides")
    if req.until <= now:
        raise RequestError(f"request {request_id} asked for a raise until {req.until}, now past")
    raise RequestError(f"request {request_id} cannot be decided")


def _apply_override(
    conn: Connection, org: OrgInfo, actor: Actor, req: BudgetRequest, now: datetime
) -> None:
    # Lock the budget row (PostgreSQL) so before/after limits in the audit are exact even
    # when two different requests for one budget are approved at once.
    locked = conn.execute(
        select(BUDGETS.c.id).where(BUDGETS.c.id == req.budget_id).with_for_update()
    ).first()
    budget = get_budget(conn, req.budget_id) if locked else None
    if budget is None:
        raise RequestError(f"budget {req.budget_id} no longer exists")
    before = effective_limit(conn, budget, req.subject_id, now)
    conn.execute(
        insert(OVERRIDES).values(
            budget_id=req.budget_id,
            subject_id=req.subject_id,
            request_id=req.id,
            amount_nanousd=req.amount_nanousd,
            until=req.until,
            created_at=now,
        )
    )
    after = {
        "limit_nanousd": before + req.amount_nanousd,
        "subject_id": req.subject_id,
        "until": req.until,
        "request_id": req.id,
    }
    record(
        conn,
        actor.name,
        "budget.override",
        entity_path(org.name, "budget", budget.id),
        {"limit_nanousd": before, "subject_id": req.subject_id},
        after,
    )
