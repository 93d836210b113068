"""Rows and identities for the evaluation and reconciliation store tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select

from store.engine import make_engine
from store.identity import create_key
from store.migrate import upgrade
from store.tables import ApiKey
from store.write_ops import SPAN_INSERT_COLUMNS
from store.writer import StoreWriter, WriteBatch

NS = 1_000_000_000
DAY_NS = 86_400 * NS
# 2026-11-02T00:00:00Z, a Monday.
DAY0 = 1_793_577_600 * NS


@dataclass(frozen=True)
class Ids:
    """An org with two workspaces and keys for alice (platform) and bob (research)."""

    org_id: int
    platform: int
    research: int
    alice_key: int
    bob_key: int


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def writer(engine: Engine) -> Iterator[StoreWriter]:
    w = StoreWriter(engine)
    yield w
    w.close()


@pytest.fixture
def ids(engine: Engine) -> Ids:
    _, alice = create_key(engine, org="acme", workspace="platform", user="alice")
    _, bob = create_key(engine, org="acme", workspace="research", user="bob")
    with engine.connect() as conn:
        keys = {
            r.id: r
            for r in conn.execute(select(ApiKey.__table__))  # type: ignore[attr-defined]
        }
    a, b = keys[alice.id], keys[bob.id]
    return Ids(a.org_id, a.workspace_id, b.workspace_id, alice.id, bob.id)


def call(
    ids: Ids,
    call_id: str,
    cost: int | None,
    *,
    trace: str = "",
    span: str = "",
    user: str = "alice",
    agent: str = "coder",
    model: str = "claude-sonnet-4-5",
    provider: str = "anthropic",
    start_ns: int = DAY0 + 3600 * NS,
    dialect: str = "genai",
    tokens: tuple[int, int, int, int] = (1000, 0, 0, 100),
    **over: Any,
) -> dict[str, Any]:
    """A priced call row (cost None: unpriced) of alice (platform) or bob (research)."""
    ws, key = (ids.platform, ids.alice_key) if user == "alice" else (ids.research, ids.bob_key)
    row: dict[str, Any] = {
        "call_id": call_id, "org_id": ids.org_id, "workspace_id": ws, "user_id": None,
        "user_name": user, "key_id": key, "agent": agent, "provider": provider,
        "request_model": model, "response_model": model, "model": model, "operation": "chat",
        "granularity": "call", "source": "span", "dialect": dialect, "start_ns": start_ns,
        "end_ns": start_ns + NS, "input_tokens": tokens[0], "cache_read_tokens": tokens[1],
        "cache_write_tokens": tokens[2], "cache_write_1h_tokens": 0, "output_tokens": tokens[3],
        "reasoning_tokens": 0, "cost_nanousd": cost, "client_cost_nanousd": None,
        "price_version": "test", "unpriced_reason": "" if cost is not None else "unknown model",
        "trace_id": trace, "span_id": span, "session_id": "", "service_name": "svc",
        "created_ns": 0,
    }  # fmt: skip
    row.update(over)
    return row


def span_tuple(ids: Ids, trace: str, span: str, start_ns: int = DAY0) -> tuple[Any, ...]:
    """A spans-table row in SPAN_INSERT_COLUMNS order."""
    values = {
        "trace_id": trace, "span_id": span, "parent_span_id": "", "name": "chat", "kind": 3,
        "start_ns": start_ns, "end_ns": start_ns + NS, "status_code": 0, "status_message": "",
        "org_id": ids.org_id, "workspace_id": ids.platform, "key_id": ids.alice_key,
        "service_name": "svc", "scope_name": "", "attributes": "{}", "resource": "{}",
        "events": "[]",
    }  # fmt: skip
    return tuple(values[c] for c in SPAN_INSERT_COLUMNS)


def write(writer: StoreWriter, org_id: int, **fields: Any) -> None:
    """Submit one batch and wait for its commit."""
    writer.submit(WriteBatch(org_id=org_id, **fields)).result(timeout=30)
