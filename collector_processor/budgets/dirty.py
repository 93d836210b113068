"""What a group of committed batches touched: the only things an evaluation pass looks at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from collector_processor.budgets.evaluate import CallScope
from store.writer import WriteBatch

_NS_PER_MINUTE = 60_000_000_000


@dataclass(slots=True)
class DirtyOrg:
    """Call tuples, sessions, keys and unpriced models one org's new calls touched."""

    scopes: set[CallScope] = field(default_factory=set)
    sessions: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> (user, minute)
    keys: dict[int, tuple[int, int]] = field(default_factory=dict)  # key id -> (user, minute)
    unpriced: set[tuple[str, str]] = field(default_factory=set)  # (model, provider)
    key_users: dict[int, int] = field(default_factory=dict)  # key id -> its calls' user


def dirty_by_org(batches: Sequence[WriteBatch]) -> dict[int, DirtyOrg]:
    """Group the calls of committed batches by org (resent calls are harmless repeats).

    Runs over every committed call, so it works on plain tuples and dicts and builds the
    CallScope objects only once per distinct tuple.
    """
    tuples: dict[int, set[tuple[int, int, int, str, str]]] = {}
    out: dict[int, DirtyOrg] = {}
    for batch in batches:
        d = out.get(batch.org_id)
        if d is None:
            d = out[batch.org_id] = DirtyOrg()
            tuples[batch.org_id] = set()
        _scan(batch, d, tuples[batch.org_id])
    for org_id, d in out.items():
        d.scopes = {CallScope(org_id, *t) for t in tuples[org_id]}
    return out


def _scan(batch: WriteBatch, d: DirtyOrg, tuples: set[tuple[int, int, int, str, str]]) -> None:
    sessions, keys, key_users = d.sessions, d.keys, d.key_users
    for c in batch.calls:
        user, key = c["user_id"], c["key_id"]
        tuples.add((c["workspace_id"], user, key, c["agent"], c["model"]))
        key_users[key] = user
        if c["cost_nanousd"] is None and c.get("billed", True) and c["model"]:
            d.unpriced.add((c["model"], c.get("provider", "")))
        if c["granularity"] != "call":
            continue
        minute = c.get("minute") or c["start_ns"] // _NS_PER_MINUTE
        prev = keys.get(key)
        if prev is None or minute > prev[1]:
            keys[key] = (user, minute)
        sid = c["session_id"]
        if sid:
            prev = sessions.get(sid)
            if prev is None or minute > prev[1]:
                sessions[sid] = (user, minute)
