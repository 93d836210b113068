"""A call stored without usage gets it when another description of the same call brings it.

A GenAI span that reports no token counts is stored unpriced ("no usage reported"), never as
$0.  The same call's `gen_ai.client.inference.operation.details` event (same call id) may
arrive later with the usage.  Its insert is then a duplicate; instead of dropping what it
knows, the stored row takes its tokens, price and model, and the caller moves the row's
contribution in the rollups (the SQLite summary and accuracy triggers follow the UPDATE).
Only rows still marked usage-less are touched, so a resend changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, select, update

from collector_processor.pricing.engine import NO_USAGE_REASON
from store.call_matching import match_key
from store.tables import LlmCallRow

CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
TOKENS = (
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
)
# What the usage-bearing description decides: usage, its price, the model it resolved to.
TAKEN = (*TOKENS, "cost_nanousd", "price_version", "unpriced_reason", "model", "provider")


def _has_usage(row: dict[str, Any]) -> bool:
    return row.get("unpriced_reason") != NO_USAGE_REASON and any(row.get(t) for t in TOKENS[:5])


def fill_usage(
    conn: Connection, rows: Iterable[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Give stored usage-less calls the usage of `rows` (descriptions whose insert found the
    call id taken); returns (before, after) of each billed row changed, for the rollups."""
    by_id: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["granularity"] == "call" and _has_usage(r):
            by_id.setdefault(r["call_id"], r)
    if not by_id:
        return []
    stored = conn.execute(
        select(CALLS).where(
            and_(CALLS.c.call_id.in_(list(by_id)), CALLS.c.unpriced_reason == NO_USAGE_REASON)
        )
    ).mappings()
    moved = []
    for before in [dict(s) for s in stored]:
        new = by_id[before["call_id"]]
        changes = {c: new[c] for c in TAKEN if c in new}
        if new.get("response_model"):
            changes["response_model"] = new["response_model"]
        after = {**before, **changes}
        changes["match_key"] = match_key(after)
        conn.execute(
            update(CALLS)
            .where(CALLS.c.call_id == before["call_id"])
            .where(CALLS.c.unpriced_reason == NO_USAGE_REASON)
            .values(**changes)
        )
        if before["billed"]:
            moved.append((before, after))
    return moved
