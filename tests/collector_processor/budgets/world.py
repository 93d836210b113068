"""A small org with users, keys and a writer, for budget and alert tests on both backends."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from collector_processor.budgets.evaluator import BudgetEvaluator
from store.budgets import Budget, BudgetSpec, set_budget
from store.engine import make_engine
from store.identity import create_key
from store.migrate import upgrade
from store.subjects import OrgInfo, find_org, resolve_subject, set_org_timezone
from store.writer import StoreWriter, WriteBatch

USD = 1_000_000_000
_ids = itertools.count(1)


def ns(at: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime."""
    return int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000


@dataclass
class Clock:
    """A settable clock for the evaluator."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """Org 'acme' (workspace 'platform'), users alice and bob, one key each."""

    engine: Engine
    writer: StoreWriter
    org: OrgInfo
    workspace_id: int
    users: dict[str, int]
    keys: dict[str, int]
    clock: Clock
    committed: list[WriteBatch] = field(default_factory=list)

    def call(self, user: str, cost_usd: float, at: datetime, **over: Any) -> dict[str, Any]:
        """A priced call row of `user` through their own key."""
        start = ns(at)
        row: dict[str, Any] = {
            "call_id": f"call-{next(_ids)}",
            "org_id": self.org.id,
            "workspace_id": self.workspace_id,
            "user_id": self.users[user],
            "user_name": user,
            "key_id": self.keys[user],
            "agent": "claude-code",
            "provider": "anthropic",
            "request_model": "claude-sonnet-4-5",
            "response_model": "",
            "model": "claude-sonnet-4-5",
            "operation": "chat",
            "granularity": "call",
            "source": "span",
            "dialect": "genai",
            "start_ns": start,
            "end_ns": start + 1000,
            "input_tokens": 100,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cache_write_1h_tokens": 0,
            "output_tokens": 10,
            "reasoning_tokens": 0,
            "cost_nanousd": round(cost_usd * USD),
            "client_cost_nanousd": None,
            "price_version": "test",
            "unpriced_reason": "",
            "trace_id": "t-" + user,
            "span_id": "",
            "session_id": "s-" + user,
            "service_name": "claude-code",
            "created_ns": 0,
        }
        row.update(over)
        return row

    def write(self, *calls: dict[str, Any]) -> WriteBatch:
        """Commit calls through the real writer; returns the committed batch."""
        batch = WriteBatch(org_id=self.org.id, calls=[dict(c) for c in calls])
        self.writer.submit(batch).result(timeout=30)
        self.committed.append(batch)
        return batch

    def spend(self, user: str, cost_usd: float, at: datetime, **over: Any) -> WriteBatch:
        """Commit one call of `user` costing `cost_usd` at `at`."""
        return self.write(self.call(user, cost_usd, at, **over))

    def budget(
        self, scope: str, subject: str | None, window: str, limit_usd: float, **rest: Any
    ) -> Budget:
        """Create a budget as an admin; subject None = a default."""
        ids = {"user": self.users, "key": self.keys}
        scope_id = (
            self.org.id
            if scope == "org"
            else self.workspace_id
            if scope == "workspace" and subject
            else 0
            if subject is None
            else ids[scope][subject]
        )
        spec = BudgetSpec(self.org.id, scope, scope_id, window, round(limit_usd * USD), **rest)
        with self.engine.begin() as conn:
            return set_budget(conn, spec, "admin", self.org.name)[0]

    def evaluator(self, **kw: Any) -> BudgetEvaluator:
        """An evaluator on this world's clock (not attached to the writer)."""
        return BudgetEvaluator(self.engine, clock=self.clock, **kw)

    def set_zone(self, zone: str) -> None:
        """Cut this org's windows in `zone`."""
        with self.engine.begin() as conn:
            set_org_timezone(conn, self.org, zone, "admin")
            self.org = find_org(conn, self.org.name)


def make_world(db_url: str) -> Iterator[World]:
    """Build the world on a fresh database; close everything afterwards."""
    engine = make_engine(db_url)
    upgrade(engine)
    keys, users = {}, {}
    for name in ("alice", "bob"):
        _, info = create_key(engine, org="acme", workspace="platform", user=name)
        keys[name] = info.id
    with engine.connect() as conn:
        org = find_org(conn, "acme")
        for name in ("alice", "bob"):
            users[name] = resolve_subject(conn, org.id, "user", name)
        ws = resolve_subject(conn, org.id, "workspace", "platform")
    writer = StoreWriter(engine)
    try:
        yield World(engine, writer, org, ws, users, keys, Clock())
    finally:
        writer.close()
        engine.dispose()
