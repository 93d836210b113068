"""Re-pricing stored calls and their rollups, and the cost-accuracy report (SQLite and PG).

Bundled rates: Opus 4.8 $5 in / $25 out per million tokens; tokens x rate = micro-USD.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from collector_processor.pricing.engine import NO_USAGE_REASON, Pricer
from semconv.dialects.usage import NO_USAGE
from semconv.records import GRANULARITY_AGGREGATE, GRANULARITY_CALL, LlmCall
from store.audit import list_audit
from store.engine import make_engine
from store.identity import create_key
from store.migrate import upgrade
from store.price_overrides import OverrideSpec, add_override, resolve_scope
from store.price_reports import cost_accuracy, unpriced_model_uses
from store.prices import ensure_bundled_version, load_price_book, store_version
from store.queries import spend_by, unpriced_models
from store.reprice import reported_provider, reprice
from store.tables import LlmCallRow, SpendMinute
from store.writer import StoreWriter, WriteBatch
from tests.collector_processor.test_pricing_engine import PLATFORM_IDS

T0 = 1_795_176_000_000_000_000  # 2026-11-20T12:00:00Z
NOV = datetime(2026, 11, 1, tzinfo=UTC)
CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
ROLLUP = SpendMinute.__table__  # type: ignore[attr-defined]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    ensure_bundled_version(eng)
    yield eng
    eng.dispose()


class Store:
    """Writes calls the way the pipeline does: priced by the current stored book."""

    def __init__(self, engine: Engine, org: str = "acme", user: str = "alice") -> None:
        self.engine, self.user = engine, user
        _, info = create_key(engine, org=org, workspace="platform", user=user)
        scope = resolve_scope(engine, org, "platform")
        assert scope.org_id is not None and scope.workspace_id is not None
        self.org_id, self.ws_id, self.key_id = scope.org_id, scope.workspace_id, info.id

    def write(self, *calls: LlmCall, client: int | None = None) -> None:
        pricer = Pricer(load_price_book(self.engine))
        rows = [self._row(pricer, c, client) for c in calls]
        writer = StoreWriter(self.engine)
        try:
            writer.submit(WriteBatch(self.org_id, calls=rows)).result(30)
        finally:
            writer.close()

    def _row(self, pricer: Pricer, c: LlmCall, client: int | None) -> dict[str, Any]:
        price = pricer.price(c, self.org_id, self.ws_id)
        tokens = ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                  "cache_write_1h_tokens", "output_tokens", "reasoning_tokens")  # fmt: skip
        return {
            "call_id": c.call_id, "org_id": self.org_id, "workspace_id": self.ws_id,
            "user_id": None, "user_name": self.user, "key_id": self.key_id, "agent": "agent-x",
            "provider": price.provider_id or c.provider, "request_model": c.request_model,
            "response_model": c.response_model, "model": price.priced_model or c.model,
            "operation": "chat", "granularity": c.granularity, "source": "span",
            "dialect": "test", "start_ns": c.start_ns, "end_ns": c.end_ns,
            **{t: getattr(c, t) for t in tokens},
            "cost_nanousd": price.cost_nanousd, "client_cost_nanousd": client,
            "price_version": price.price_version, "unpriced_reason": price.reason,
            "trace_id": "", "span_id": "", "session_id": c.session_id,
            "service_name": "agent-x", "created_ns": 0,
        }  # fmt: skip

    def spend(self) -> dict[str, tuple[int, int, int]]:
        rows = spend_by(self.engine, "model", since_ns=0)
        return {r.group: (r.calls, r.cost_nanousd, r.unpriced_calls) for r in rows}

    def totals(self) -> tuple[int, int]:
        """(rollup cost, billed calls' cost): equal whenever rollups are right."""
        with self.engine.connect() as conn:
            rollup = conn.execute(select(func.sum(ROLLUP.c.cost_nanousd))).scalar()
            calls = conn.execute(
                select(func.sum(CALLS.c.cost_nanousd)).where(CALLS.c.billed.is_(True))
            ).scalar()
        return int(rollup or 0), int(calls or 0)


def call(
    call_id: str,
    model: str,
    provider: str = "anthropic",
    start: int = T0,
    granularity: str = GRANULARITY_CALL,
    session: str = "",
    **tokens: int,
) -> LlmCall:
    return LlmCall(call_id, granularity, "span", "test", provider, model, "", "chat", start,
                   start, session_id=session, **tokens)  # fmt: skip


@pytest.fixture
def store(engine: Engine) -> Store:
    s = Store(engine)
    s.write(
        # 1000x5 + 100x25 = 5000 + 2500 = 7500 micro-USD
        call("c1", "claude-opus-4-8", input_tokens=1000, output_tokens=100),
        # a session aggregate, superseded (unbilled) by the per-call c3 of the same session
        call("c2", "claude-opus-4-8", granularity=GRANULARITY_AGGREGATE, session="s1",
             input_tokens=2000),
        call("c3", "claude-opus-4-8", session="s1", start=T0 + 60_000_000_000,
             input_tokens=500),  # 500x5 = 2500
        call("c4", "acme-coder-1", "acme", input_tokens=10_000, output_tokens=1000),
        call("c5", "claude-fable-9-20261101", input_tokens=1000),
    )  # fmt: skip
    return s


def test_override_and_import_then_reprice(store: Store) -> None:
    engine = store.engine
    assert store.spend() == {
        "claude-opus-4-8": (2, 10_000_000, 0),
        "acme-coder-1": (1, 0, 1),
        "claude-fable-9-20261101": (1, 0, 1),
    }
    org = resolve_scope(engine, "acme", None)
    add_override(engine, OverrideSpec("claude-opus-4-8", "", org, NOV, None, Decimal(20)), "carol")
    rates = {"input_usd_per_mtok": Decimal(1), "output_usd_per_mtok": Decimal(3)}
    add_override(engine, OverrideSpec("acme-coder-1", "", org, NOV, None, None, rates), "carol")
    fable = {"claude-fable-9": {"litellm_provider": "anthropic", "input_cost_per_token": 2e-06,
                                "output_cost_per_token": 8e-06}}  # fmt: skip
    with engine.begin() as conn:
        store_version(conn, label="litellm", fmt="litellm", body=json.dumps(fable),
                      effective_from=NOV, models=1, actor="carol", audit={})  # fmt: skip

    report = reprice(engine, Pricer(load_price_book(engine)), since=NOV, actor="carol")
    # Opus 20% off: c1 7500 -> 6000, c3 2500 -> 2000 (c2 is repriced but counts nowhere)
    # acme-coder-1: 10000x1 + 1000x3 = 13000; claude-fable-9 (dated id -> undated row):
    # 1000x2 = 2000 micro-USD.
    assert (report.calls, report.changed, report.cost_changed) == (5, 5, 5)
    opus = report.by_model["claude-opus-4-8"]
    assert (opus.calls, opus.before_nanousd, opus.after_nanousd) == (2, 10_000_000, 8_000_000)
    fable9 = report.by_model["claude-fable-9"]
    assert (fable9.unpriced_before, fable9.unpriced_after, fable9.after_nanousd) == (
        1,
        0,
        2_000_000,
    )
    assert store.spend() == {
        "acme-coder-1": (1, 13_000_000, 0),
        "claude-opus-4-8": (2, 8_000_000, 0),
        "claude-fable-9": (1, 2_000_000, 0),  # the rollup row moved to the priced model id
    }
    assert store.totals() == (23_000_000, 23_000_000)
    with engine.connect() as conn:
        c2 = conn.execute(
            select(CALLS.c.cost_nanousd, CALLS.c.billed, CALLS.c.price_version)
            .where(CALLS.c.call_id == "c2")
        ).one()  # fmt: skip
    # 2000x5 x 0.8 = 8000 micro-USD, stored but never billed
    assert tuple(c2) == (8_000_000, False, "genai-prices 0.2.3 + override #1")
    [audit] = list_audit(engine, action_prefix="prices.reprice")
    assert audit.actor == "carol" and audit.entity.startswith("*/price-reprice/2026-11-01")
    assert audit.before["by_model"]["claude-opus-4-8"] == {"cost_nanousd": 10_000_000,
                                                          "unpriced_calls": 0}  # fmt: skip
    assert audit.after["by_model"]["acme-coder-1"] == {"cost_nanousd": 13_000_000,
                                                      "unpriced_calls": 0}  # fmt: skip


def test_dry_run_changes_nothing(store: Store) -> None:
    org = resolve_scope(store.engine, "acme", None)
    add_override(store.engine, OverrideSpec("claude-opus-4-8", "", org, NOV, None, Decimal(50)),
                 "carol")  # fmt: skip
    before = store.spend()
    report = reprice(store.engine, Pricer(load_price_book(store.engine)), since=NOV, dry_run=True)
    assert report.by_model["claude-opus-4-8"].after_nanousd == 5_000_000
    assert store.spend() == before
    assert list_audit(store.engine, action_prefix="prices.reprice") == []


def test_model_filter_and_since_limit_the_calls(store: Store) -> None:
    org = resolve_scope(store.engine, "acme", None)
    add_override(store.engine, OverrideSpec("claude-opus-4-8", "", org, NOV, None, Decimal(50)),
                 "carol")  # fmt: skip
    rates = {"input_usd_per_mtok": Decimal(1), "output_usd_per_mtok": Decimal(3)}
    add_override(store.engine, OverrideSpec("acme-coder-1", "", org, NOV, None, None, rates), "c")
    pricer = Pricer(load_price_book(store.engine))
    # c3 started a minute after c1: only it (and the aggregate c2) are at or after T0 + 1 min.
    late = datetime.fromtimestamp((T0 + 60_000_000_000) // 1_000_000_000, UTC)
    report = reprice(store.engine, pricer, since=late, model="anthropic/Claude-Opus-4-8")
    assert (report.calls, report.cost_changed) == (1, 1)
    assert store.spend()["claude-opus-4-8"] == (2, 8_750_000, 0)  # 7500 + 2500 x 0.5
    assert store.spend()["acme-coder-1"] == (1, 0, 1)  # another model: untouched
    reprice(store.engine, pricer, since=NOV, model="claude-opus-4-8")
    assert store.spend()["claude-opus-4-8"] == (2, 5_000_000, 0)
    assert store.totals() == (5_000_000, 5_000_000)


def test_cost_accuracy(engine: Engine) -> None:
    s = Store(engine)
    # Opus 4.8: 1000x5 = 5000 micro-USD each; clients say 5000 (exact) and 5050 (+1%: not
    # over the threshold); Sonnet 4.5: 1000x3 = 3000, the client says 2900 (+3.45%).
    s.write(call("a1", "claude-opus-4-8", input_tokens=1000), client=5_000_000)
    s.write(call("a2", "claude-opus-4-8", input_tokens=1000), client=5_050_000)
    s.write(call("b1", "claude-sonnet-4-5", input_tokens=1000), client=2_900_000)
    s.write(call("x1", "acme-coder-1", "acme", input_tokens=1000), client=1_000_000)
    s.write(call("n1", "claude-opus-4-8", input_tokens=1000))  # no client cost: not compared
    rows = {r.model: r for r in cost_accuracy(engine)}
    opus, sonnet, acme = rows["claude-opus-4-8"], rows["claude-sonnet-4-5"], rows["acme-coder-1"]
    assert (opus.calls, opus.client_nanousd, opus.ours_nanousd, opus.calls_off) == (
        2, 10_050_000, 10_000_000, 0)  # fmt: skip
    assert opus.delta_pct is not None and round(opus.delta_pct, 4) == Decimal("-0.4975")
    assert not opus.flagged()
    assert (sonnet.delta_nanousd, sonnet.calls_off, sonnet.flagged()) == (100_000, 1, True)
    assert (acme.calls, acme.unpriced_calls, acme.unpriced_client_nanousd) == (0, 1, 1_000_000)
    assert acme.flagged()
    assert [r.model for r in cost_accuracy(engine, since_ns=T0 + 1)] == []
    # a 0.4% threshold flags the 1% call of Opus
    assert [r.calls_off for r in cost_accuracy(engine, threshold_pct=Decimal("0.4"))
            if r.model == "claude-opus-4-8"] == [1]  # fmt: skip


def test_unpriced_models_name_their_users(store: Store) -> None:
    uses = {u.model.model: u for u in unpriced_model_uses(store.engine)}
    assert set(uses) == {"acme-coder-1", "claude-fable-9-20261101"}
    assert uses["acme-coder-1"].user_names == ("alice",)
    assert (uses["acme-coder-1"].model.calls, uses["acme-coder-1"].model.input_tokens) == (
        1,
        10_000,
    )


def test_unpriced_models_are_those_of_the_org_asked_for(store: Store) -> None:
    # Another org: its own unpriced model, and one it shares with acme (other calls, user).
    other = Store(store.engine, org="globex", user="gus")
    other.write(
        call("g1", "globex-secret-1", "globex", input_tokens=700),
        call("g2", "acme-coder-1", "acme", input_tokens=300),
        call("g3", "acme-coder-1", "acme", input_tokens=300),
    )

    def listed(org_id: int | None) -> dict[str, tuple[int, int, int, tuple[str, ...]]]:
        return {
            u.model.model: (u.model.calls, u.model.input_tokens, u.model.users, u.user_names)
            for u in unpriced_model_uses(store.engine, org_id)
        }

    assert listed(store.org_id) == {
        "acme-coder-1": (1, 10_000, 1, ("alice",)),
        "claude-fable-9-20261101": (1, 1000, 1, ("alice",)),
    }
    assert listed(other.org_id) == {
        "acme-coder-1": (2, 600, 1, ("gus",)),
        "globex-secret-1": (1, 700, 1, ("gus",)),
    }
    everyone = listed(None)  # the CLI's default: every org
    assert everyone["acme-coder-1"] == (3, 10_600, 2, ("alice", "gus"))
    assert set(everyone) == {"acme-coder-1", "claude-fable-9-20261101", "globex-secret-1"}
    assert [m.model for m in unpriced_models(store.engine, other.org_id)] == [
        "acme-coder-1",
        "globex-secret-1",
    ]


def test_repricing_under_unchanged_prices_changes_nothing(engine: Engine) -> None:
    # Platform and routed ids are the hard case: the row keeps the catalog's provider, and
    # re-pricing must find the very same rates from it.
    s = Store(engine)
    calls = [
        call(f"p{i}", model, provider, input_tokens=1000, output_tokens=100)
        for i, (provider, model, *_rest) in enumerate(PLATFORM_IDS)
    ]
    s.write(*calls, call("u1", "claude-opus-4-8[1m]", input_tokens=1000))
    expected = sum(nanousd for *_ids, nanousd in PLATFORM_IDS) + 5_000_000
    assert s.totals() == (expected, expected)
    report = reprice(engine, Pricer(load_price_book(engine)), since=NOV)
    assert (report.calls, report.changed) == (len(PLATFORM_IDS) + 1, 0)
    assert s.totals() == (expected, expected)


@pytest.mark.parametrize(
    ("stored", "model", "expected"),
    [
        ("anthropic", "apac.anthropic.claude-opus-4-8-v1:0", "aws"),  # priced at list price
        ("google", "claude-opus-4-1@20250805", "google"),
        ("openrouter", "anthropic/claude-sonnet-4", "openrouter"),
        ("azure", "gpt-4o", "azure"),
        ("anthropic", "claude-opus-4-8", "anthropic"),
    ],
)
def test_reported_provider(stored: str, model: str, expected: str) -> None:
    row = {"provider": stored, "request_model": model, "response_model": ""}
    assert reported_provider(row) == expected


def test_repricing_keeps_a_call_without_usage_unpriced(engine: Engine) -> None:
    s = Store(engine)
    missing = call("m1", "claude-sonnet-4-5")._replace(extra=NO_USAGE.extra())
    s.write(missing, call("p1", "claude-sonnet-4-5", input_tokens=1000))
    report = reprice(engine, Pricer(load_price_book(engine)), since=NOV)
    assert (report.calls, report.changed) == (2, 0)
    with engine.connect() as conn:
        row = conn.execute(
            select(CALLS.c.cost_nanousd, CALLS.c.unpriced_reason).where(CALLS.c.call_id == "m1")
        ).one()
    assert tuple(row) == (None, NO_USAGE_REASON)
    assert s.totals() == (3_000_000, 3_000_000)
