"""Named actors and their roles per org: who may set budgets and decide requests.

- admin: sets budgets and defaults, decides increase requests, manages members, reads audit.
- member: sees their own spend, budgets and alerts, files increase requests.

An actor is a `members` row, or, implicitly, a member when a user of that name exists in
the org (the people whose spend is tracked).  The first actor to act on an org that has no
members becomes its admin, so a fresh `make run` works without setup.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from store.audit import entity_path, record
from store.subjects import USERS, OrgInfo
from store.tables import utcnow
from store.tables_budgets import MemberRow

MEMBERS: Table = MemberRow.__table__  # type: ignore[attr-defined]
ROLES = ("admin", "member")


class PermissionDenied(Exception):
    """The actor's role does not allow this."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who runs a command: a name, a role in one org, and the user whose spend is theirs."""

    name: str
    org_id: int
    role: str
    user_id: int | None
    explicit: bool = True  # False: an implicit member (a tracked user without a members row)

    @property
    def is_admin(self) -> bool:
        """Admins set budgets and decide requests."""
        return self.role == "admin"

    def require_admin(self, what: str) -> None:
        """Raise PermissionDenied unless the actor is an admin."""
        if not self.is_admin:
            raise PermissionDenied(
                f"{self.name} is a member; only an admin can {what} "
                f"(an admin can run `otelspend members add {self.name} --role admin`)"
            )


def _user_id(conn: Connection, org_id: int, name: str) -> int | None:
    row = conn.execute(
        select(USERS.c.id).where(USERS.c.org_id == org_id, USERS.c.name == name)
    ).first()
    return int(row[0]) if row is not None else None


def resolve_actor(conn: Connection, org: OrgInfo, name: str) -> Actor:
    """The actor `name` in `org`; bootstraps the first admin of an org with no members."""
    if not name:
        raise PermissionDenied("no actor: pass --as NAME or set OTELSPEND_ACTOR")
    m = MEMBERS.c
    row = conn.execute(select(MEMBERS).where(m.org_id == org.id, m.name == name)).first()
    if row is not None:
        return Actor(name, org.id, row.role, _user_id(conn, org.id, row.user_name or name))
    count = conn.execute(select(func.count()).where(m.org_id == org.id)).scalar_one()
    if count == 0:
        _insert(conn, org.id, name, "admin", name, "(bootstrap)")
        record(
            conn,
            name,
            "member.bootstrap",
            entity_path(org.name, "member", name),
            None,
            {"name": name, "role": "admin", "reason": "first actor of an org without members"},
        )
        return Actor(name, org.id, "admin", _user_id(conn, org.id, name))
    uid = _user_id(conn, org.id, name)
    if uid is not None:
        return Actor(name, org.id, "member", uid, explicit=False)
    raise PermissionDenied(
        f"{name!r} is not a member of org {org.name!r}; an admin can add them with "
        f"`otelspend members add {name} --role member`"
    )


def _insert(conn: Connection, org_id: int, name: str, role: str, user_name: str, by: str) -> None:
    conn.execute(
        insert(MEMBERS).values(
            org_id=org_id,
            name=name,
            role=role,
            user_name=user_name,
            created_by=by,
            created_at=utcnow(),
        )
    )


@dataclass(frozen=True, slots=True)
class Member:
    """A members row as listed."""

    name: str
    role: str
    user_name: str
    created_by: str


def list_members(conn: Connection, org_id: int) -> list[Member]:
    """Members of an org, admins first."""
    m = MEMBERS.c
    stmt = select(m.name, m.role, m.user_name, m.created_by).where(m.org_id == org_id)
    rows = [Member(*r) for r in conn.execute(stmt.order_by(m.role, m.name))]
    return rows


def _admins(conn: Connection, org_id: int) -> set[str]:
    m = MEMBERS.c
    stmt = select(m.name).where(m.org_id == org_id, m.role == "admin")
    return set(conn.execute(stmt).scalars())


def add_member(
    conn: Connection, org: OrgInfo, actor: Actor, name: str, role: str, user_name: str
) -> None:
    """Add a member or change their role (admin only); audited."""
    actor.require_admin("manage members")
    if role not in ROLES:
        raise ValueError(f"role must be admin or member, got {role!r}")
    m = MEMBERS.c
    where = (m.org_id == org.id, m.name == name)
    row = conn.execute(select(m.role, m.user_name).where(*where)).first()
    user_name = user_name or name
    if row is None:
        _insert(conn, org.id, name, role, user_name, actor.name)
        before = None
    else:
        if row.role == "admin" and role != "admin" and _admins(conn, org.id) == {name}:
            raise PermissionDenied(f"{name} is the last admin of {org.name}; add another first")
        conn.execute(update(MEMBERS).where(*where).values(role=role, user_name=user_name))
        before = {"name": name, "role": row.role, "user_name": row.user_name}
    after = {"name": name, "role": role, "user_name": user_name}
    action = "member.add" if before is None else "member.update"
    record(conn, actor.name, action, entity_path(org.name, "member", name), before, after)


def remove_member(conn: Connection, org: OrgInfo, actor: Actor, name: str) -> bool:
    """Remove a member (admin only; never the last admin); audited."""
    actor.require_admin("manage members")
    m = MEMBERS.c
    where = (m.org_id == org.id, m.name == name)
    row = conn.execute(select(m.role, m.user_name).where(*where)).first()
    if row is None:
        return False
    if row.role == "admin" and _admins(conn, org.id) == {name}:
        raise PermissionDenied(f"{name} is the last admin of {org.name}; add another first")
    conn.execute(delete(MEMBERS).where(*where))
    before = {"name": name, "role": row.role, "user_name": row.user_name}
    record(conn, actor.name, "member.remove", entity_path(org.name, "member", name), before, None)
    return True
