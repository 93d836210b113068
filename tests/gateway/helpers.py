"""Shared test helpers: budgets, spend polling, request bodies."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from gateway.leases import LEASE_LIFETIME_S
from store.budgets import BudgetSpec, set_budget
from store.subjects import find_org, resolve_subject
from tests.otelspend.helpers import spend_json

CLAUDE = "claude-sonnet-4-5"
GPT = "gpt-5.1"
GEMINI = "gemini-2.5-flash"


def hard_budget(engine: Engine, user: str, limit_usd: str, window: str = "day") -> int:
    """A hard budget on one user of org acme; returns its id once a running gateway applies
    it (its leases admit calls under the old budgets for up to LEASE_LIFETIME_S)."""
    with engine.begin() as conn:
        org = find_org(conn, "acme")
        user_id = resolve_subject(conn, org.id, "user", user)
        limit = int(Decimal(limit_usd) * 1_000_000_000)
        spec = BudgetSpec(
            org_id=org.id,
            scope="user",
            scope_id=user_id,
            window=window,
            limit_nanousd=limit,
            mode="hard",
        )
        budget, _ = set_budget(conn, spec, "test", "acme")
    time.sleep(LEASE_LIFETIME_S)
    return budget.id


def spend(db: str) -> tuple[int, str]:
    """(calls, cost_usd) of alice."""
    rows = {r["user"]: r for r in spend_json(db, "user", "1h")}
    row = rows.get("alice")
    return (0, "0") if row is None else (row["calls"], row["cost_usd"])


def wait_spend(db: str, calls: int, timeout_s: float = 10.0) -> tuple[int, str]:
    """Poll until alice has `calls` calls (settlement runs after the response)."""
    deadline = time.monotonic() + timeout_s
    got = spend(db)
    while got[0] != calls and time.monotonic() < deadline:
        time.sleep(0.05)
        got = spend(db)
    return got


def anthropic_body(stream: bool = False, max_tokens: int = 300, text: str = "hi") -> dict[str, Any]:
    """A Messages request."""
    return {"model": CLAUDE, "max_tokens": max_tokens, "stream": stream,
            "messages": [{"role": "user", "content": text}]}  # fmt: skip
