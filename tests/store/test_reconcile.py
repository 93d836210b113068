"""Reconciliation in the store: re-import replaces, mappings, UTC days, report arithmetic."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import Engine, update

from collector_processor.reconcile.formats import parse_export
from collector_processor.reconcile.report import ReportRow, Tokens
from otelspend.cli_reconcile import reconcile_rows
from store.reconcile import (
    ImportResult,
    count_uncaptured_in_budgets,
    import_lines,
    list_imports,
    list_mappings,
    remove_mapping,
    set_count_uncaptured_in_budgets,
    set_mapping,
)
from store.reconcile_queries import billed_sums
from store.tables import Org
from store.writer import StoreWriter
from tests.collector_processor.reconcile import samples as s
from tests.store import _evals_reconcile_rows as rows
from tests.store._evals_reconcile_rows import DAY0, DAY_NS, NS, Ids, call, write

engine = rows.engine  # fixture
ids = rows.ids  # fixture
writer = rows.writer  # fixture

USD = 1_000_000_000
WEB_SEARCH = 250_000_000
NOV2_COST = 3_000_000_000 + 15_000_000_000 + 300_000_000 + 375_000_000 + 250_000_000


def load(engine: Engine, org_id: int, fmt: str, content: str) -> ImportResult:
    parsed = parse_export(fmt, content)
    return import_lines(
        engine,
        org_id,
        kind=parsed.kind,
        fmt=fmt,
        lines=[dataclasses.asdict(line) for line in parsed.lines],
        covered=parsed.covered,
        file_name=f"{fmt}.json",
    )


def billed_total(engine: Engine, org_id: int) -> int:
    return sum(
        b.cost_nanousd or 0 for b in billed_sums(engine, org_id, DAY0 - DAY_NS, DAY0 + 9 * DAY_NS)
    )


def report(engine: Engine, org_id: int, by: str) -> dict[str, ReportRow]:
    rows = reconcile_rows(engine, org_id, DAY0, DAY0 + 7 * DAY_NS, by)
    return {r.group: r for r in rows}


def test_reimporting_a_period_replaces_it(engine: Engine, ids: Ids) -> None:
    pages = s.anthropic_cost_pages()
    first = load(engine, ids.org_id, "anthropic-cost", s.as_list(pages))
    assert (first.lines, first.replaced_lines) == (7, 0)  # Nov 4: a $0 line
    total = billed_total(engine, ids.org_id)
    assert total == NOV2_COST + 1_237_891_200
    again = load(engine, ids.org_id, "anthropic-cost", s.as_jsonl(pages))  # same period, as JSONL
    assert (again.lines, again.replaced_lines) == (7, 7)
    assert billed_total(engine, ids.org_id) == total  # never doubled
    # A later export of Nov 3 alone, with a corrected amount, replaces only Nov 3.
    nov3 = {
        "data": [
            pages[0]["data"][1]
            | {"results": [s._cost("200", "uncached_input_tokens", s.WS_RESEARCH)]}
        ]
    }
    assert load(engine, ids.org_id, "anthropic-cost", json.dumps(nov3)).replaced_lines == 1
    assert billed_total(engine, ids.org_id) == NOV2_COST + 2 * USD
    # A day reported empty clears what an earlier import said about it.
    empty_nov2 = {"data": [{"starting_at": s.NOV2, "ending_at": s.NOV3, "results": []}]}
    assert load(engine, ids.org_id, "anthropic-cost", json.dumps(empty_nov2)).replaced_lines == 5
    assert billed_total(engine, ids.org_id) == 2 * USD
    assert [i.replaced_lines for i in list_imports(engine, ids.org_id)] == [5, 1, 7, 0]


def test_usage_and_cost_imports_do_not_replace_each_other(engine: Engine, ids: Ids) -> None:
    load(engine, ids.org_id, "anthropic-cost", s.as_list(s.anthropic_cost_pages()))
    usage = load(engine, ids.org_id, "anthropic-usage", json.dumps(s.anthropic_usage_page()))
    assert usage.replaced_lines == 0 and usage.warnings == ()
    assert billed_total(engine, ids.org_id) == NOV2_COST + 1_237_891_200
    csv = load(engine, ids.org_id, "csv", s.CSV_EXPORT)
    assert any("both count" in w for w in csv.warnings)  # CSV over API exports: double count


def test_mappings_tie_provider_workspaces_and_keys(engine: Engine, ids: Ids) -> None:
    load(engine, ids.org_id, "anthropic-cost", s.as_list(s.anthropic_cost_pages()))
    load(engine, ids.org_id, "anthropic-usage", json.dumps(s.anthropic_usage_page()))
    before = {b.workspace for b in billed_sums(engine, ids.org_id, DAY0, DAY0 + 3 * DAY_NS)}
    assert before == {
        f"unmapped:anthropic:{s.WS_PLATFORM}",
        f"unmapped:anthropic:{s.WS_RESEARCH}",
        "unmapped:anthropic:unassigned",
    }
    set_mapping(engine, ids.org_id, "anthropic", "workspace", s.WS_PLATFORM, "platform")
    set_mapping(engine, ids.org_id, "anthropic", "workspace", "", "platform")
    set_mapping(engine, ids.org_id, "anthropic", "api_key", s.KEY_CI, "research")  # more specific
    sums = billed_sums(engine, ids.org_id, DAY0, DAY0 + DAY_NS)
    tokens = {b.workspace: b.tokens for b in sums if b.tokens}
    assert tokens == {
        "research": (600_000, 1_000_000, 100_000, 700_000),
        "platform": (400_000, 0, 0, 300_000),
    }
    cost = {(b.workspace, b.model): b.cost_nanousd for b in sums if b.cost_nanousd}
    assert cost == {("platform", s.SONNET): NOV2_COST - 250_000_000, ("platform", ""): 250_000_000}
    assert len(list_mappings(engine, ids.org_id)) == 3
    set_mapping(engine, ids.org_id, "anthropic", "workspace", "", "research")  # re-map: replaces
    assert {m.workspace for m in list_mappings(engine, ids.org_id) if m.external_id == ""} == {
        "research"
    }
    assert remove_mapping(engine, ids.org_id, "anthropic", "api_key", s.KEY_CI)
    assert not remove_mapping(engine, ids.org_id, "anthropic", "api_key", s.KEY_CI)
    with pytest.raises(ValueError, match="no workspace 'nope'"):
        set_mapping(engine, ids.org_id, "anthropic", "workspace", "x", "nope")


def test_report_arithmetic_on_utc_days_whatever_the_org_zone(
    engine: Engine, writer: StoreWriter, ids: Ids
) -> None:
    with engine.begin() as conn:  # Tokyo: 23:30 UTC on Nov 2 is already Nov 3 there
        conn.execute(update(Org.__table__).values(timezone="Asia/Tokyo"))  # type: ignore[attr-defined]
    load(engine, ids.org_id, "anthropic-cost", s.as_list(s.anthropic_cost_pages()))
    load(engine, ids.org_id, "anthropic-usage", json.dumps(s.anthropic_usage_page()))
    set_mapping(engine, ids.org_id, "anthropic", "workspace", s.WS_PLATFORM, "platform")
    late = DAY0 + 23 * 3600 * NS + 1800 * NS
    write(
        writer,
        ids.org_id,
        calls=[
            # Nov 2 UTC: 800k of the 1M billed uncached input and all the output, priced $14.40.
            call(ids, "n2a", 12_000_000_000, tokens=(500_000, 1_000_000, 100_000, 700_000)),
            call(ids, "n2b", 2_400_000_000, tokens=(300_000, 0, 0, 300_000), start_ns=late),
            call(ids, "n3", 1_237_891_200, start_ns=DAY0 + DAY_NS + NS, user="bob"),
            call(ids, "n4", USD, start_ns=DAY0 + 2 * DAY_NS),
        ],
    )
    days = report(engine, ids.org_id, "day")
    nov2, nov3, nov4 = days["2026-11-02"], days["2026-11-03"], days["2026-11-04"]
    assert nov2.billed_nanousd == NOV2_COST and nov2.captured_nanousd == 14_400_000_000
    assert nov2.delta_nanousd == NOV2_COST - 14_400_000_000
    assert nov2.billed_tokens == Tokens(1_000_000, 1_000_000, 100_000, 1_000_000)
    # 200k uncached input tokens missing, at the billed $3/M input rate: $0.60 of traffic;
    # the web search (no token class) follows the share of all tokens missing, 200k of 3.1M.
    assert nov2.traffic_gap_nanousd == 600_000_000 + round(WEB_SEARCH * 200_000 / 3_100_000)
    assert nov2.price_gap_nanousd == nov2.delta_nanousd - nov2.traffic_gap_nanousd
    assert nov3.delta_nanousd == 0 and nov3.verdict == "matches"
    assert nov4.billed_nanousd == 0 and nov4.captured_nanousd == USD  # reported empty
    assert nov4.verdict == "gap; import a usage report to explain it"
    ws = report(engine, ids.org_id, "workspace")
    assert ws["platform"].captured_nanousd == 15_400_000_000  # Nov 2 and the $1 of Nov 4
    assert ws["unmapped:anthropic:unassigned"].billed_nanousd == 250_000_000
    assert ws["TOTAL"].billed_nanousd == NOV2_COST + 1_237_891_200


def test_budget_setting_defaults_off(engine: Engine, ids: Ids) -> None:
    assert count_uncaptured_in_budgets(engine, ids.org_id) is False
    set_count_uncaptured_in_budgets(engine, ids.org_id, True)
    set_count_uncaptured_in_budgets(engine, ids.org_id, True)
    assert count_uncaptured_in_budgets(engine, ids.org_id) is True
    set_count_uncaptured_in_budgets(engine, ids.org_id, False)
    assert count_uncaptured_in_budgets(engine, ids.org_id) is False
