"""Names <-> ids of the subjects budgets apply to (orgs, workspaces, users, keys)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Table, select, update

from store.audit import entity_path, record
from store.tables import ApiKey, Org, User, Workspace

ORGS: Table = Org.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
KEYS: Table = ApiKey.__table__  # type: ignore[attr-defined]

# scope -> (table, column people name it by)
_NAMED: dict[str, tuple[Table, str]] = {
    "org": (ORGS, "name"),
    "workspace": (WORKSPACES, "name"),
    "user": (USERS, "name"),
    "key": (KEYS, "prefix"),
}


@dataclass(frozen=True, slots=True)
class OrgInfo:
    """An org's id, name and the IANA zone its budget windows are cut in."""

    id: int
    name: str
    timezone: str


def find_org(conn: Connection, name: str) -> OrgInfo:
    """The org named `name`; LookupError with a hint when there is none."""
    row = conn.execute(
        select(ORGS.c.id, ORGS.c.name, ORGS.c.timezone).where(ORGS.c.name == name)
    ).first()
    if row is None:
        raise LookupError(f"no org named {name!r} (orgs appear when a key is created for them)")
    return OrgInfo(row.id, row.name, row.timezone or "UTC")


def org_by_id(conn: Connection, org_id: int) -> OrgInfo:
    """The org with this id."""
    row = conn.execute(
        select(ORGS.c.id, ORGS.c.name, ORGS.c.timezone).where(ORGS.c.id == org_id)
    ).one()
    return OrgInfo(row.id, row.name, row.timezone or "UTC")


def set_org_timezone(conn: Connection, org: OrgInfo, zone: str, actor: str) -> None:
    """Change the zone budget windows are cut in; audited."""
    conn.execute(update(ORGS).where(ORGS.c.id == org.id).values(timezone=zone))
    record(
        conn,
        actor,
        "org.timezone",
        entity_path(org.name, "org", org.name),
        {"timezone": org.timezone},
        {"timezone": zone},
    )


def resolve_subject(conn: Connection, org_id: int, scope: str, name: str) -> int:
    """The id of the `scope` subject called `name` inside an org."""
    if scope == "org":
        return org_id
    table, col = _NAMED[scope]
    row = conn.execute(
        select(table.c.id).where(table.c.org_id == org_id, table.c[col] == name)
    ).first()
    if row is None:
        raise LookupError(f"no {scope} {name!r} in this org")
    return int(row[0])


def subject_names(conn: Connection, scope: str, ids: Iterable[int]) -> dict[int, str]:
    """Display names of subjects by id (missing ids are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    table, col = _NAMED[scope]
    stmt = select(table.c.id, table.c[col]).where(table.c.id.in_(wanted))
    return {int(r[0]): str(r[1]) for r in conn.execute(stmt)}


def names_by_scope(
    conn: Connection, subjects: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """Display names of (scope, id) pairs, one query per scope."""
    wanted: dict[str, set[int]] = {}
    for scope, ident in subjects:
        wanted.setdefault(scope, set()).add(ident)
    out: dict[tuple[str, int], str] = {}
    for scope, ids in wanted.items():
        out.update(((scope, i), n) for i, n in subject_names(conn, scope, ids).items())
    return out


def keys_of_user(conn: Connection, user_id: int) -> set[int]:
    """Ids of the keys that belong to a user (their spend is the user's own)."""
    return {
        int(k) for k in conn.execute(select(KEYS.c.id).where(KEYS.c.user_id == user_id)).scalars()
    }
