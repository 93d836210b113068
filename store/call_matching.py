"""Cross-source call matching: one model call described by two channels is billed once.

A *channel* is where a description comes from, (dialect, source): the gateway's record, a
client's span, a client's log event.  Their call ids differ (the gateway names its own span;
Claude Code's span end and log time can be milliseconds apart), so the writer matches them on
a fingerprint instead: same org, same attributed user, same provider, identical uncached
input / cache read / cache write / output tokens, end times at most MATCH_WINDOW_NS apart,
session ids that do not disagree, and channels that can describe one call: the gateway and
any client, or one client's span and log event (same dialect, other source).  Two different
instrumentations (Claude Code and a Python agent, say) are two programs making their own
calls, and a repetitive workload gives equal token counts often: they are never paired.
The model is left out: channels spell it differently ("claude-opus-4-8[1m]",
"claude-opus-4-8", a dated response model).

The first description stored is the primary (billed).  A later one from another channel is
stored with billed=False and duplicate_of=<the primary's call_id> — out of rollups and spend,
kept for inspection — and fills in what the primary lacks (trace link, session, agent, client
cost).  Pairing is one-to-one: a call group holds at most one row per channel, so two real
calls with equal tokens, each exported as span + log, stay two billed calls; among several
candidates the nearest end time wins.  A resent row finds its own stored copy and changes
nothing.  Writers that may run concurrently serialize per user: SQLite's writer holds the
database write lock (BEGIN IMMEDIATE), PostgreSQL's take a transaction advisory lock per user.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, update

from store.tables import LlmCallRow

CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
GATEWAY_DIALECT = "gateway"  # gateway.record.DIALECT: the proxy sees every client's calls
# Wide enough for clock skew between a client's machine and the server and for the time a
# client takes between the response and its telemetry record (16 ms seen live); narrow
# enough that equal-token calls of one user rarely fall in it — and when they do, one-to-one
# pairing by nearest end time still keeps them apart.
MATCH_WINDOW_NS = 10_000_000_000
# match_key = end-time bucket << 32 | 32-bit fingerprint hash.  Time first: new keys land at the
# recent end of the index (a random 64-bit key would dirty a random index page per insert).
# A lookup reaches 2 windows either side of a row: with 16-window buckets it probes one
# bucket 3 times out of 4, two otherwise.
MATCH_BUCKET_NS = 16 * MATCH_WINDOW_NS
_HASH_BITS = 32
_HASH_MASK = (1 << _HASH_BITS) - 1
FINGERPRINT = (
    "org_id",
    "user_id",
    "provider",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
)
# What a duplicate may add to its primary when the primary lacks it.
ENRICHED = ("trace_id", "session_id", "agent", "client_cost_nanousd")
_ADVISORY_LOCK_CLASS = 0x05E7  # pg_advisory_xact_lock(class, user_id) of the writers
_KEYS_PER_QUERY = 2_000  # bound parameters per lookup statement
_CANDIDATE_COLUMNS = (
    "call_id",
    "granularity",
    "dialect",
    "source",
    "billed",
    "duplicate_of",
    "match_key",
    "end_ns",
    "minute",
    "workspace_id",
    "key_id",
    "model",
    "span_id",
    "cost_nanousd",
    "reasoning_tokens",
    *FINGERPRINT,
    *(c for c in ENRICHED if c not in FINGERPRINT),
)


@dataclass(slots=True)
class CallGroup:
    """A billed call (stored, or new in this batch) and the channels that describe it."""

    primary: dict[str, Any]  # its columns: fetched values, or the batch row itself
    channels: set[tuple[str, str]]
    stored: bool


def channel(row: dict[str, Any]) -> tuple[str, str]:
    """Where a description comes from: (dialect, source)."""
    return row["dialect"], row["source"]


def _joins(new: tuple[str, str], group: set[tuple[str, str]]) -> bool:
    """Can a description from channel `new` join a call group holding these channels?"""
    return all(
        new != held and (GATEWAY_DIALECT in (new[0], held[0]) or new[0] == held[0])
        for held in group
    )


def match_key(row: dict[str, Any]) -> int | None:
    """The row's end-time bucket and fingerprint hash in one integer; None: never matched.

    Aggregates are handled per session, and a call without tokens has nothing to match on.
    The hash (org, user and token classes; the provider is compared after the lookup) only
    narrows the lookup, so collisions cost a fetched row, never a wrong pairing.  Plain
    integer arithmetic: stable across processes and Python versions, ~1 µs a row.
    """
    i, cr = row["input_tokens"], row["cache_read_tokens"]
    cw, o = row["cache_write_tokens"], row["output_tokens"]
    if row["granularity"] != "call" or not (i or cr or cw or o):
        return None
    h = row["org_id"]
    for v in (row["user_id"], i, cr, cw, o):
        h = (h * 0x9E3779B97F4A7C15 + v) & 0xFFFFFFFFFFFFFFFF
    return (row["end_ns"] // MATCH_BUCKET_NS) << _HASH_BITS | (h ^ h >> 29) & _HASH_MASK


def lock_users(conn: Connection, user_ids: Iterable[int]) -> None:
    """PostgreSQL: serialize matching per user across writers (in a fixed order: no deadlock)."""
    if conn.dialect.name != "postgresql":
        return  # SQLite: the writer's BEGIN IMMEDIATE already excludes every other writer
    for user_id in sorted(set(user_ids)):
        conn.exec_driver_sql(
            "SELECT pg_advisory_xact_lock(%s, %s)", (_ADVISORY_LOCK_CLASS, user_id)
        )


def plan_duplicates(
    conn: Connection, rows: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], CallGroup]]:
    """Set match_key, duplicate_of and billed on new rows before they are inserted.

    Returns (duplicate row, group) for rows that matched a call already stored; a primary new
    in this batch is completed in place instead.
    """
    keyed = []
    for r in rows:
        r["match_key"] = key = match_key(r)
        r.setdefault("duplicate_of", "")
        if key is not None:
            keyed.append(r)
    if not keyed:
        return []
    groups, stored_ids = _stored_groups(conn, keyed)
    in_batch: dict[int, int] = defaultdict(int)
    for r in keyed:
        in_batch[r["match_key"] & _HASH_MASK] += 1
    # A resend finds its own stored copy: the insert skips it, and it pairs with nothing.
    # Rows with neither a stored candidate nor a batch neighbour of their hash are done.
    new = [
        r
        for r in keyed
        if r["call_id"] not in stored_ids
        and (r["match_key"] & _HASH_MASK in groups or in_batch[r["match_key"] & _HASH_MASK] > 1)
    ]
    own = [CallGroup(r, {channel(r)}, stored=False) for r in new]
    later: list[tuple[dict[str, Any], CallGroup]] = []
    for j, group in _pairings(new, own, groups):
        r = new[j]
        if r["duplicate_of"] or len(own[j].channels) > 1 or not _joins(channel(r), group.channels):
            continue  # already paired, already somebody's primary, or the group cannot take it
        if group.primary["duplicate_of"]:
            continue  # a row of this batch that has itself become a duplicate
        group.channels.add(channel(r))
        r["billed"] = False
        r["duplicate_of"] = group.primary["call_id"]
        if group.stored:
            later.append((r, group))
        else:
            group.primary.update(enrichment(group.primary, r))
    return later


def _pairings(
    new: list[dict[str, Any]], own: list[CallGroup], stored: dict[int, list[CallGroup]]
) -> list[tuple[int, CallGroup]]:
    """Every (new row index, group it fits): calls already stored first (they arrived first),
    then earlier rows of the batch; within each, nearest end time first.

    Taking pairs in this order rather than row by row keeps two equal-token calls from
    crossing when their descriptions arrive out of order.
    """
    edges: list[tuple[int, int, int, str, CallGroup]] = []
    earlier: dict[int, list[int]] = defaultdict(list)
    for j, r in enumerate(new):
        h = r["match_key"] & _HASH_MASK
        for g in stored.get(h, ()):
            if _fits(r, g):
                edges.append((0, _gap(r, g), j, g.primary["call_id"], g))
        for i in earlier[h]:
            if _fits(r, own[i]):
                edges.append((1, _gap(r, own[i]), j, new[i]["call_id"], own[i]))
        earlier[h].append(j)
    edges.sort(key=lambda e: e[:4])
    return [(j, g) for _, _, j, _, g in edges]


def _gap(row: dict[str, Any], group: CallGroup) -> int:
    return abs(row["end_ns"] - group.primary["end_ns"])


def _fits(row: dict[str, Any], group: CallGroup) -> bool:
    p = group.primary
    sessions = (row["session_id"], p["session_id"])
    return (
        _gap(row, group) <= MATCH_WINDOW_NS
        and _joins(channel(row), group.channels)
        and (not all(sessions) or sessions[0] == sessions[1])
        and all(row[c] == p[c] for c in FINGERPRINT)
    )


def _stored_groups(
    conn: Connection, rows: list[dict[str, Any]]
) -> tuple[dict[int, list[CallGroup]], set[str]]:
    """Stored billed calls that could pair with `rows`, per fingerprint hash, and every id
    fetched (a row finding its own id is a resend).

    Looks 2 windows either side of each row: a candidate is within one window of its row,
    and every duplicate already in the candidate's group within one window of the candidate.
    """
    probes: set[int] = set()
    reach = 2 * MATCH_WINDOW_NS  # < MATCH_BUCKET_NS: at most the row's bucket and one beside
    for r in rows:
        h = r["match_key"] & _HASH_MASK
        end = r["end_ns"]
        probes.add((end - reach) // MATCH_BUCKET_NS << _HASH_BITS | h)
        probes.add((end + reach) // MATCH_BUCKET_NS << _HASH_BITS | h)
    keys = sorted(probes)
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    head = f"SELECT {', '.join(_CANDIDATE_COLUMNS)} FROM llm_calls WHERE match_key IN "
    fetched: list[dict[str, Any]] = []
    for i in range(0, len(keys), _KEYS_PER_QUERY):
        chunk = keys[i : i + _KEYS_PER_QUERY]
        result = conn.exec_driver_sql(head + f"({', '.join([mark] * len(chunk))})", tuple(chunk))
        fetched.extend(dict(zip(_CANDIDATE_COLUMNS, r, strict=True)) for r in result)
    groups: dict[int, list[CallGroup]] = defaultdict(list)
    by_id: dict[str, CallGroup] = {}
    for f in fetched:
        if f["billed"] and not f["duplicate_of"]:
            by_id[f["call_id"]] = CallGroup(f, {channel(f)}, stored=True)
            groups[f["match_key"] & _HASH_MASK].append(by_id[f["call_id"]])
    for f in fetched:
        if f["duplicate_of"] in by_id:
            by_id[f["duplicate_of"]].channels.add(channel(f))
    return groups, {f["call_id"] for f in fetched}


def enrichment(primary: dict[str, Any], duplicate: dict[str, Any]) -> dict[str, Any]:
    """What `duplicate` knows that `primary` lacks: trace link, session, agent, client cost."""
    out: dict[str, Any] = {}
    if not primary["trace_id"] and duplicate["trace_id"]:
        out["trace_id"] = duplicate["trace_id"]
        out["span_id"] = duplicate.get("span_id", "")
    for col in ("session_id", "agent"):
        if not primary[col] and duplicate[col]:
            out[col] = duplicate[col]
    if primary["client_cost_nanousd"] is None and duplicate["client_cost_nanousd"] is not None:
        out["client_cost_nanousd"] = duplicate["client_cost_nanousd"]
    return out


def enrich_stored_primaries(
    conn: Connection, pairs: Iterable[tuple[dict[str, Any], CallGroup]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Fill stored primaries from their new duplicates; return (before, after) of each one
    whose rollup dimensions changed (its agent), for the caller to move in the rollups."""
    moved = []
    for dup, group in pairs:
        changes = enrichment(group.primary, dup)
        if not changes:
            continue
        before = dict(group.primary)
        group.primary.update(changes)
        cid = before["call_id"]
        conn.execute(update(CALLS).where(CALLS.c.call_id == cid).values(**changes))
        if "agent" in changes:
            moved.append((before, group.primary))
    return moved
