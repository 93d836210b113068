"""Uncaptured spend for the budgets engine, and who bypasses the gateway."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from store.reconcile import set_mapping
from store.reconcile_queries import gateway_bypass, uncaptured_spend
from store.writer import StoreWriter
from tests.collector_processor.reconcile import samples as s
from tests.store import _evals_reconcile_rows as rows
from tests.store._evals_reconcile_rows import DAY0, DAY_NS, NS, Ids, call, write
from tests.store.test_reconcile import NOV2_COST, USD, WEB_SEARCH, load

engine = rows.engine  # fixture
ids = rows.ids  # fixture
writer = rows.writer  # fixture

NOV3_COST = 1_237_891_200


def _seed(engine: Engine, writer: StoreWriter, ids: Ids) -> None:
    load(engine, ids.org_id, "anthropic-cost", s.as_list(s.anthropic_cost_pages()))
    load(engine, ids.org_id, "anthropic-usage", json.dumps(s.anthropic_usage_page()))  # no $
    set_mapping(engine, ids.org_id, "anthropic", "workspace", s.WS_PLATFORM, "platform")
    set_mapping(engine, ids.org_id, "anthropic", "workspace", s.WS_RESEARCH, "research")
    nov3 = DAY0 + DAY_NS + NS
    calls = [
        call(ids, "p1", 14_400_000_000),
        call(ids, "o1", 5 * USD, provider="openai", model="gpt-4o"),  # not on this bill
        call(ids, "r1", 2 * USD, user="bob", start_ns=nov3),  # more than Nov 3's bill
    ]
    write(writer, ids.org_id, calls=calls)


def test_uncaptured_spend_per_org_and_workspace(
    engine: Engine, writer: StoreWriter, ids: Ids
) -> None:
    _seed(engine, writer, ids)
    week = (DAY0, DAY0 + 7 * DAY_NS)
    # Nov 2: billed $18.925, captured $14.40 (the OpenAI $5 does not offset it).
    # Nov 3: captured more than billed: 0, and it does not offset Nov 2 either.
    assert uncaptured_spend(engine, ids.org_id, None, *week) == NOV2_COST - 14_400_000_000
    platform = NOV2_COST - WEB_SEARCH - 14_400_000_000  # web search: unmapped workspace
    assert uncaptured_spend(engine, ids.org_id, ids.platform, *week) == platform
    assert uncaptured_spend(engine, ids.org_id, ids.research, *week) == 0


def test_partial_days_count_pro_rata_and_empty_windows_are_zero(
    engine: Engine, writer: StoreWriter, ids: Ids
) -> None:
    _seed(engine, writer, ids)
    noon = DAY0 + DAY_NS // 2
    half = uncaptured_spend(engine, ids.org_id, None, noon, DAY0 + DAY_NS)
    assert half == (NOV2_COST - 14_400_000_000) // 2
    assert uncaptured_spend(engine, ids.org_id, None, DAY0 + 2 * DAY_NS, DAY0 + 3 * DAY_NS) == 0
    assert uncaptured_spend(engine, ids.org_id, None, noon, noon) == 0
    assert uncaptured_spend(engine, ids.org_id + 99, None, DAY0, DAY0 + DAY_NS) == 0


def test_gateway_bypass_per_user(engine: Engine, writer: StoreWriter, ids: Ids) -> None:
    calls = [  # distinct tokens: none of these describe the same call twice
        call(ids, "a-cli-1", 7 * USD, dialect="claude_code", tokens=(1001, 0, 0, 100)),
        call(ids, "a-cli-2", 3 * USD, dialect="codex", tokens=(1002, 0, 0, 100)),
        call(ids, "a-gw", 6 * USD, dialect="gateway", tokens=(1003, 0, 0, 100)),
        call(ids, "a-sdk", 50 * USD, dialect="genai", tokens=(1004, 0, 0, 100)),  # neither
        call(ids, "b-cli", 3 * USD, dialect="gemini_cli", user="bob", tokens=(1005, 0, 0, 100)),
        call(ids, "b-gw", 3 * USD, dialect="gateway", user="bob", tokens=(1006, 0, 0, 100)),
        call(ids, "c-gw", 2 * USD, dialect="gateway", user="carol", tokens=(1007, 0, 0, 100)),
        call(ids, "c-agg", 9 * USD, dialect="claude_code", user="carol", billed=False,
             granularity="aggregate", tokens=(1008, 0, 0, 100)),
    ]  # fmt: skip
    write(writer, ids.org_id, calls=calls)
    got = gateway_bypass(engine, ids.org_id, DAY0, DAY0 + DAY_NS)
    assert [(r.user, r.telemetry_nanousd, r.gateway_nanousd, r.bypass_nanousd) for r in got] == [
        ("alice", 10 * USD, 6 * USD, 4 * USD),
        ("bob", 3 * USD, 3 * USD, 0),
        ("carol", 0, 2 * USD, 0),
    ]
    assert (got[0].telemetry_calls, got[0].gateway_calls) == (2, 1)
    assert gateway_bypass(engine, ids.org_id, DAY0 + DAY_NS, DAY0 + 2 * DAY_NS) == []


def test_a_call_seen_by_the_gateway_and_the_cli_is_not_a_bypass(
    engine: Engine, writer: StoreWriter, ids: Ids
) -> None:
    # One call through the gateway that Claude Code also reported as a span and a log event:
    # the writer keeps the gateway's record billed and the CLI's two as its duplicates.
    same = {"tokens": (1200, 5000, 800, 300), "provider": "anthropic"}
    write(writer, ids.org_id, calls=[call(ids, "gw", 12 * USD, dialect="gateway", **same)])
    cli = [call(ids, f"cc-{src}", 12 * USD, dialect="claude_code", source=src, **same)
           for src in ("span", "log")]  # fmt: skip
    write(writer, ids.org_id, calls=cli)
    [row] = gateway_bypass(engine, ids.org_id, DAY0, DAY0 + DAY_NS)
    assert (row.user, row.telemetry_nanousd, row.gateway_nanousd, row.bypass_nanousd) == (
        "alice", 12 * USD, 12 * USD, 0,
    )  # fmt: skip
    assert (row.telemetry_calls, row.gateway_calls) == (1, 1)
