"""Provider export parsers: shapes, money in integer nano-USD, UTC buckets, pagination."""

from __future__ import annotations

import json

import pytest

from collector_processor.reconcile.formats import FORMATS, parse_export
from collector_processor.reconcile.openai import split_line_item
from collector_processor.reconcile.records import KIND_COST, KIND_CSV, KIND_USAGE, ExportError
from tests.collector_processor.reconcile import samples as s

NS = 1_000_000_000
NOV2_NS = s.NOV2_UNIX * NS
DAY_NS = s.DAY_S * NS


def test_anthropic_cost_report_pages() -> None:
    for text in (s.as_list(s.anthropic_cost_pages()), s.as_jsonl(s.anthropic_cost_pages())):
        parsed = parse_export("anthropic-cost", text)
        assert parsed.kind == KIND_COST and parsed.warnings == []
        *lines, empty = parsed.lines
        assert (empty.bucket_start_ns, empty.cost_nanousd) == (NOV2_NS + 2 * DAY_NS, 0)
        by_class = {(ln.external_workspace, ln.token_class): ln.cost_nanousd for ln in lines}
        assert by_class == {
            (s.WS_PLATFORM, "input"): 3_000_000_000,  # "300.00" cents
            (s.WS_PLATFORM, "output"): 15_000_000_000,
            (s.WS_PLATFORM, "cache_read"): 300_000_000,
            (s.WS_PLATFORM, "cache_write"): 375_000_000,
            ("", ""): 250_000_000,  # web search in the default workspace
            (s.WS_RESEARCH, "input"): 1_237_891_200,  # "123.78912" cents, exact
        }
        assert {ln.model for ln in lines} == {s.SONNET, ""}
        # Nov 4 is covered although empty: re-importing it clears that day.
        assert parsed.covered == {
            ("anthropic", NOV2_NS + d * DAY_NS, NOV2_NS + (d + 1) * DAY_NS) for d in range(3)
        }


def test_an_export_cut_short_warns_and_a_repeated_page_counts_once() -> None:
    first, _ = s.anthropic_cost_pages()
    parsed = parse_export("anthropic-cost", json.dumps(first))
    assert "has_more=true" in parsed.warnings[0]
    twice = parse_export("anthropic-cost", s.as_list([first, first]))
    assert len(twice.lines) == len(parsed.lines)


def test_anthropic_usage_report() -> None:
    parsed = parse_export("anthropic-usage", json.dumps(s.anthropic_usage_page()))
    assert parsed.kind == KIND_USAGE
    first = parsed.lines[0]
    assert (first.external_workspace, first.external_api_key) == (s.WS_PLATFORM, s.KEY_CI)
    assert (first.input_tokens, first.cache_read_tokens, first.cache_write_tokens) == (
        600_000,
        1_000_000,
        100_000,
    )
    assert first.output_tokens == 700_000 and first.cost_nanousd is None
    assert parsed.lines[2].external_workspace == ""


def test_openai_costs_in_dollars_parsed_without_floats() -> None:
    parsed = parse_export("openai-costs", s.as_jsonl(s.openai_cost_pages()))
    assert [(ln.model, ln.token_class, ln.cost_nanousd) for ln in parsed.lines] == [
        ("gpt-4o-2024-08-06", "input", 60_000_000),
        ("gpt-4o-2024-08-06", "output", 120_000_000),
        ("gpt-4o-2024-08-06", "cache_read", 895_874_000),
        ("", "", 10_000_000),
    ]
    assert parsed.lines[0].external_workspace == "proj_abc"
    assert parsed.lines[0].bucket_start_ns == NOV2_NS
    assert parsed.warnings == []


def test_openai_usage_splits_cached_input_out() -> None:
    (line,) = parse_export("openai-usage", json.dumps(s.openai_usage_page())).lines
    assert (line.input_tokens, line.cache_read_tokens, line.output_tokens) == (200, 800, 500)
    assert (line.requests, line.external_api_key, line.external_workspace) == (
        5,
        "key_abc",
        "proj_abc",
    )


def test_generic_csv() -> None:
    parsed = parse_export("csv", s.CSV_EXPORT)
    assert parsed.kind == KIND_CSV
    first, second, third = parsed.lines
    assert first.cost_nanousd == 1_234_560_000_000
    assert (first.input_tokens, first.output_tokens, first.cache_write_tokens) == (
        1_000_000,
        200_000,
        0,
    )
    assert second.input_tokens is None  # no token columns filled: no counts, not zeros
    assert third.bucket_start_ns == NOV2_NS + DAY_NS * 2  # 23:30 at UTC-5 is Nov 4 UTC
    assert ("openai", NOV2_NS, NOV2_NS + DAY_NS) in parsed.covered


@pytest.mark.parametrize(
    ("fmt", "content", "message"),
    [
        ("anthropic-cost", json.dumps(s.anthropic_usage_page()), "anthropic-usage"),
        ("anthropic-usage", s.as_list(s.anthropic_cost_pages()), "anthropic-cost"),
        ("openai-costs", json.dumps(s.openai_usage_page()), "openai-usage"),
        ("openai-usage", s.as_list(s.openai_cost_pages()), "openai-costs"),
        ("anthropic-cost", '{"object": "error"}', "no `data` list"),
        ("openai-costs", "not json\n", "line 1 is not JSON"),
        (
            "anthropic-cost",
            json.dumps(
                {"data": [{"starting_at": "yesterday", "ending_at": s.NOV3, "results": []}]}
            ),
            "RFC 3339",
        ),
        (
            "openai-costs",
            json.dumps(
                {
                    "data": [
                        {
                            "start_time": 1,
                            "end_time": 2,
                            "results": [{"amount": {"value": "1", "currency": "eur"}}],
                        }
                    ]
                }
            ),
            "not USD",
        ),
        (
            "anthropic-cost",
            json.dumps(
                {
                    "data": [
                        {
                            "starting_at": s.NOV2,
                            "ending_at": s.NOV3,
                            "results": [{"amount": "1e999999999"}],
                        }
                    ]
                }
            ),
            "amount",
        ),
        (
            "openai-usage",
            json.dumps(
                {"data": [{"start_time": 1, "end_time": 2, "results": [{"input_tokens": -5}]}]}
            ),
            "non-negative",
        ),
        ("csv", "Date,Cost\n2026-11-02,1\n", "provider column"),
        ("csv", "Provider,Cost\nopenai,1\n", "lacks date"),
        ("csv", "Date,Provider,Cost\n11/02/2026,openai,1\n", "line 2: date"),
        ("csv", "Date,Provider,Cost,Currency\n2026-11-02,openai,1,EUR\n", "not USD"),
    ],
)
def test_unreadable_exports_say_why(fmt: str, content: str, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        parse_export(fmt, content)


def test_csv_provider_option_and_formats() -> None:
    parsed = parse_export("csv", "date,cost\n2026-11-02,2.5\n", "OpenAI".lower())
    assert parsed.lines[0].provider == "openai"
    assert set(FORMATS) == {
        "anthropic-cost",
        "anthropic-usage",
        "openai-costs",
        "openai-usage",
        "csv",
    }
    assert split_line_item("gpt-4o, batch output") == ("gpt-4o", "output")
    assert split_line_item("Code Interpreter sessions") == ("", "")
