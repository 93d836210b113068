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
candidates the nearest end time wins.  A primary lists the other channels of its group in
match_channels.  A resent row (its call id already stored) pairs with nothing.  Writers that
may run concurrently serialize per user: SQLite's writer holds the database write lock (BEGIN
IMMEDIATE), PostgreSQL's take a transaction advisory lock per user.

The lookup key carries the channel: a row is stored under the hash of its fingerprint and its
own channel, and looks only under its partner channels' hashes (the gateway's: every client
channel; a client's: the gateway and its own dialect's other source).  A storm of identical
calls from one channel (fixed-size embeddings, a benchmark's canned answer) therefore never
makes a lookup read its own channel's earlier rows.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, update

from store.tables import LlmCallRow

CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
GATEWAY_DIALECT = "gateway"  # gateway.record.DIALECT: the proxy sees every client's calls
GATEWAY_CHANNEL = (GATEWAY_DIALECT, "span")
# The channels a gateway record looks for (semconv.dialects' DIALECT names, pinned by a
# test): a client's per-call descriptions are spans and log events (metrics are aggregates).
CLIENT_DIALECTS = ("claude_code", "codex", "gemini_cli", "genai", "openinference", "openlit")
CALL_SOURCES = ("span", "log")
# Wide enough for clock skew between a client's machine and the server and for the time a
# client takes between the response and its telemetry record (16 ms seen live); narrow
# enough that equal-token calls of one user rarely fall in it — and when they do, one-to-one
# pairing by nearest end time still keeps them apart.
MATCH_WINDOW_NS = 10_000_000_000
# match_key = end-time bucket << 32 | 32-bit hash of fingerprint and channel.  Time first:
# new keys land at the recent end of the index (a random 64-bit key would dirty a random
# index page per insert).
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
    "match_channels",
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


@cache
def partners(ch: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """The channels a description from `ch` may pair with (those `_joins` allows)."""
    if ch[0] == GATEWAY_DIALECT:
        return tuple((d, s) for d in CLIENT_DIALECTS for s in CALL_SOURCES)
    return (GATEWAY_CHANNEL, *((ch[0], s) for s in CALL_SOURCES if s != ch[1]))


@cache
def _channel_hash(ch: tuple[str, str]) -> int:
    return zlib.crc32(f"{ch[0]}/{ch[1]}".encode())


def encode_channels(channels: Iterable[tuple[str, str]]) -> str:
    """A primary's match_channels: the other channels of its group, "dialect/source,..."."""
    return ",".join(sorted(f"{d}/{s}" for d, s in channels))


def decode_channels(text: str) -> set[tuple[str, str]]:
    return {(d, s) for d, _, s in (c.partition("/") for c in text.split(",") if c)}


def _joins(new: tuple[str, str], group: set[tuple[str, str]]) -> bool:
    """Can a description from channel `new` join a call group holding these channels?"""
    return all(
        new != held and (GATEWAY_DIALECT in (new[0], held[0]) or new[0] == held[0])
        for held in group
    )


def fingerprint_hash(row: dict[str, Any]) -> int | None:
    """32-bit hash of the row's fingerprint; None: never matched.

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
    return (h ^ h >> 29) & _HASH_MASK


def match_key(row: dict[str, Any]) -> int | None:
    """The row's end-time bucket and its fingerprint-and-channel hash in one integer."""
    fh = fingerprint_hash(row)
    if fh is None:
        return None
    return (row["end_ns"] // MATCH_BUCKET_NS) << _HASH_BITS | fh ^ _channel_hash(channel(row))


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
    keyed: list[tuple[dict[str, Any], list[int]]] = []  # (row, its partners' hashes)
    for r in rows:
        r.setdefault("duplicate_of", "")
        r.setdefault("match_channels", "")
        fh = fingerprint_hash(r)
        if fh is None:
            r["match_key"] = None
            continue
        ch = channel(r)
        r["match_key"] = (r["end_ns"] // MATCH_BUCKET_NS) << _HASH_BITS | fh ^ _channel_hash(ch)
        keyed.append((r, [fh ^ _channel_hash(p) for p in partners(ch)]))
    if not keyed:
        return []
    groups = _stored_groups(conn, keyed)
    in_batch = {r["match_key"] & _HASH_MASK for r, _ in keyed}
    # Rows with neither a stored candidate nor a batch neighbour under a partner hash are
    # done; a resend (its call id already stored) pairs with nothing.
    maybe = [(r, hs) for r, hs in keyed if any(h in groups or h in in_batch for h in hs)]
    stored_ids = _stored_call_ids(conn, [r["call_id"] for r, _ in maybe])
    new = [(r, hs) for r, hs in maybe if r["call_id"] not in stored_ids]
    own = [CallGroup(r, {channel(r)}, stored=False) for r, _ in new]
    later: list[tuple[dict[str, Any], CallGroup]] = []
    for j, group in _pairings(new, own, groups):
        r = new[j][0]
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
            group.primary["match_channels"] = encode_channels(
                group.channels - {channel(group.primary)}
            )
    return later


def _pairings(
    new: list[tuple[dict[str, Any], list[int]]],
    own: list[CallGroup],
    stored: dict[int, list[CallGroup]],
) -> list[tuple[int, CallGroup]]:
    """Every (new row index, group it fits): calls already stored first (they arrived first),
    then earlier rows of the batch; within each, nearest end time first.

    Taking pairs in this order rather than row by row keeps two equal-token calls from
    crossing when their descriptions arrive out of order.
    """
    edges: list[tuple[int, int, int, str, CallGroup]] = []
    earlier: dict[int, list[int]] = defaultdict(list)
    for j, (r, partner_hashes) in enumerate(new):
        for h in partner_hashes:
            for g in stored.get(h, ()):
                if _fits(r, g):
                    edges.append((0, _gap(r, g), j, g.primary["call_id"], g))
            for i in earlier.get(h, ()):
                if _fits(r, own[i]):
                    edges.append((1, _gap(r, own[i]), j, new[i][0]["call_id"], own[i]))
        earlier[r["match_key"] & _HASH_MASK].append(j)
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
    conn: Connection, rows: list[tuple[dict[str, Any], list[int]]]
) -> dict[int, list[CallGroup]]:
    """Stored billed calls that could pair with `rows`, per match hash (fingerprint and
    channel): each row's partner hashes in the buckets 2 windows either side of its end
    (a candidate is within one window of the row)."""
    probes: set[int] = set()
    reach = 2 * MATCH_WINDOW_NS  # < MATCH_BUCKET_NS: at most the row's bucket and one beside
    for r, partner_hashes in rows:
        end = r["end_ns"]
        buckets = {(end - reach) // MATCH_BUCKET_NS, (end + reach) // MATCH_BUCKET_NS}
        probes.update(b << _HASH_BITS | h for b in buckets for h in partner_hashes)
    head = (
        f"SELECT {', '.join(_CANDIDATE_COLUMNS)} FROM llm_calls"
        " WHERE duplicate_of = '' AND match_key IN "
    )
    groups: dict[int, list[CallGroup]] = defaultdict(list)
    for f in _fetch_in(conn, head, sorted(probes)):
        if f["billed"]:
            held = {channel(f)} | decode_channels(f["match_channels"])
            groups[f["match_key"] & _HASH_MASK].append(CallGroup(f, held, stored=True))
    return groups


def _stored_call_ids(conn: Connection, call_ids: list[str]) -> set[str]:
    head = "SELECT call_id FROM llm_calls WHERE call_id IN "
    return {f["call_id"] for f in _fetch_in(conn, head, call_ids, ("call_id",))}


def _fetch_in(
    conn: Connection, head: str, values: list[Any], columns: tuple[str, ...] = _CANDIDATE_COLUMNS
) -> list[dict[str, Any]]:
    """Rows of `head` + "(values...)", in statements of at most _KEYS_PER_QUERY values."""
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    out: list[dict[str, Any]] = []
    for i in range(0, len(values), _KEYS_PER_QUERY):
        chunk = values[i : i + _KEYS_PER_QUERY]
        result = conn.exec_driver_sql(head + f"({', '.join([mark] * len(chunk))})", tuple(chunk))
        out.extend(dict(zip(columns, r, strict=True)) for r in result)
    return out


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
    """Fill stored primaries from their new duplicates and record their groups' channels
    (one UPDATE per primary); return (before, after) of each one whose rollup dimensions
    changed (its agent), for the caller to move in the rollups."""
    touched: dict[str, tuple[dict[str, Any], CallGroup]] = {}
    for dup, group in pairs:
        touched.setdefault(group.primary["call_id"], (dict(group.primary), group))
        group.primary.update(enrichment(group.primary, dup))
        group.primary["match_channels"] = encode_channels(group.channels - {channel(group.primary)})
    moved = []
    for cid, (before, group) in touched.items():
        after = group.primary
        changes = {c: after[c] for c in (*ENRICHED, "span_id", "match_channels") if c in after}
        changes = {c: v for c, v in changes.items() if v != before.get(c)}
        if changes:
            conn.execute(update(CALLS).where(CALLS.c.call_id == cid).values(**changes))
        if after["agent"] != before["agent"]:
            moved.append((before, after))
    return moved
