"""Orgs, workspaces, users and ingest keys (cold path: SQLModel sessions are fine here)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from store.tables import ApiKey, Org, User, Workspace, utcnow

KEY_PREFIX = "osk_"
_KEY_RANDOM_BYTES = 24
_PREFIX_CHARS = 12  # "osk_" + 8 random chars: enough to tell keys apart in listings
UNATTRIBUTED_USER = "unattributed"


def hash_key(token: str) -> str:
    """Return the stored form of a key: its SHA-256 (keys are 192-bit random, no KDF needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A key as listed to people: never the secret, only its prefix."""

    id: int
    prefix: str
    org: str
    workspace: str
    user: str
    trusted: bool
    label: str
    created_at: datetime
    revoked_at: datetime | None


def get_or_create_org(session: Session, name: str) -> Org:
    """Return the org named `name`, creating it."""
    org = session.exec(select(Org).where(Org.name == name)).first()
    if org is None:
        org = Org(name=name)
        session.add(org)
        session.flush()
    return org


def get_or_create_workspace(session: Session, org_id: int, name: str) -> Workspace:
    """Return the workspace `name` of an org, creating it."""
    stmt = select(Workspace).where(Workspace.org_id == org_id, Workspace.name == name)
    ws = session.exec(stmt).first()
    if ws is None:
        ws = Workspace(org_id=org_id, name=name)
        session.add(ws)
        session.flush()
    return ws


def get_or_create_user(session: Session, org_id: int, name: str) -> User:
    """Return the user `name` of an org, creating it."""
    user = session.exec(select(User).where(User.org_id == org_id, User.name == name)).first()
    if user is None:
        user = User(org_id=org_id, name=name)
        session.add(user)
        session.flush()
    return user


def create_key(
    engine: Engine,
    *,
    org: str,
    workspace: str,
    user: str | None,
    trusted: bool = False,
    label: str = "",
) -> tuple[str, KeyInfo]:
    """Create a key and return (secret, info); the secret is not stored and never shown again."""
    if not org or not workspace:
        raise ValueError("a key needs an org and a workspace")
    token = KEY_PREFIX + secrets.token_urlsafe(_KEY_RANDOM_BYTES)
    with Session(engine) as session:
        o = get_or_create_org(session, org)
        assert o.id is not None
        ws = get_or_create_workspace(session, o.id, workspace)
        u = get_or_create_user(session, o.id, user) if user else None
        row = ApiKey(
            org_id=o.id,
            workspace_id=ws.id or 0,
            user_id=u.id if u else None,
            prefix=token[:_PREFIX_CHARS],
            key_hash=hash_key(token),
            trusted=trusted,
            label=label,
        )
        session.add(row)
        session.commit()
        session.refresh(row)
        info = KeyInfo(
            row.id or 0,
            row.prefix,
            org,
            workspace,
            user or "",
            trusted,
            label,
            row.created_at,
            None,
        )
    return token, info


def list_keys(engine: Engine, *, include_revoked: bool = False) -> list[KeyInfo]:
    """List keys (prefixes only), newest first."""
    stmt = (
        select(ApiKey, Org.name, Workspace.name, User.name)
        .join(Org, Org.id == ApiKey.org_id)  # type: ignore[arg-type]
        .join(Workspace, Workspace.id == ApiKey.workspace_id)  # type: ignore[arg-type]
        .outerjoin(User, User.id == ApiKey.user_id)  # type: ignore[arg-type]
        .order_by(ApiKey.id.desc())  # type: ignore[union-attr]
    )
    out = []
    with Session(engine) as session:
        for key, org, ws, user in session.exec(stmt):
            if key.revoked_at is not None and not include_revoked:
                continue
            out.append(
                KeyInfo(
                    key.id or 0,
                    key.prefix,
                    org,
                    ws,
                    user or "",
                    key.trusted,
                    key.label,
                    key.created_at,
                    key.revoked_at,
                )
            )
    return out


def revoke_key(engine: Engine, prefix: str) -> bool:
    """Revoke the key with this prefix; return False when no live key has it."""
    with Session(engine) as session:
        key = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if key is None or key.revoked_at is not None:
            return False
        key.revoked_at = utcnow()
        session.add(key)
        session.commit()
    return True


def find_key_by_hash(engine: Engine, key_hash: str) -> ApiKey | None:
    """Return the live key with this hash, or None."""
    with Session(engine) as session:
        stmt = select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
        return session.exec(stmt).first()


def ensure_default_identity(
    engine: Engine, org: str = "default", workspace: str = "default"
) -> tuple[int, int, int]:
    """Return (org_id, workspace_id, unattributed_user_id), creating them."""
    with Session(engine) as session:
        o = get_or_create_org(session, org)
        assert o.id is not None
        ws = get_or_create_workspace(session, o.id, workspace)
        u = get_or_create_user(session, o.id, UNATTRIBUTED_USER)
        session.commit()
        return o.id, ws.id or 0, u.id or 0
