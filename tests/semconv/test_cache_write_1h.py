"""1-hour cache writes (Anthropic's cache_creation.ephemeral_1h_input_tokens) on GenAI spans.

The GenAI semconv has no per-TTL split; each instrumentation that reports one uses its own
name (semconv.names CACHE_WRITE_1H_*).  The 1-hour part is priced at the 1-hour rate.
otelspend's own instrumentation, through the real Anthropic SDK, is covered by
test_instrument_anthropic.py::test_async_stream_and_one_hour_cache_writes.
Claude Sonnet 4.5 (genai-prices 0.2.3, up to 200k input): $3 input, $0.30 cache read,
$3.75 5-minute cache write, $6 1-hour cache write, $15 output per MTok.
"""

from __future__ import annotations

from typing import Any

import pytest

from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.engine import Pricer
from semconv.normalize import normalize_spans
from tests.semconv._records import span


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer(GenaiPricesCatalog())


# A Claude Code turn shaped as the Dash0 agent plugin exports it: raw Anthropic counts, where
# input_tokens EXCLUDES the cache, and every write made for 1 hour.
DASH0_TURN: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.usage.input_tokens": 6,
    "gen_ai.usage.output_tokens": 400,
    "gen_ai.usage.cache_creation.input_tokens": 68_348,
    "gen_ai.usage.cache_read.input_tokens": 119_351,
    "dash0.gen_ai.usage.cache_creation.ephemeral_5m.input_tokens": 0,
    "dash0.gen_ai.usage.cache_creation.ephemeral_1h.input_tokens": 68_348,
}

# Archestra's proxy span: semconv input INCLUDES the cache; 1-hour part in its own namespace.
ARCHESTRA_SPAN: dict[str, Any] = {
    "route.category": "llm-proxy",
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.usage.input_tokens": 10_000,
    "gen_ai.usage.output_tokens": 1_000,
    "gen_ai.usage.cache_read.input_tokens": 6_000,
    "gen_ai.usage.cache_creation.input_tokens": 3_000,
    "archestra.usage.cache_creation.1h_input_tokens": 2_000,
}


def test_dash0_one_hour_writes(pricer: Pricer) -> None:
    [call] = normalize_spans([span(attrs=DASH0_TURN)]).calls
    assert call.extra == {"input_rule": "exclusive_inferred"}  # 6 < cache: raw Anthropic
    assert (call.input_tokens, call.cache_read_tokens) == (6, 119_351)
    assert (call.cache_write_tokens, call.cache_write_1h_tokens) == (68_348, 68_348)
    # 6x3 + 119351x0.30 + 68348x6 + 400x15 = 18 + 35805.3 + 410088 + 6000 = 451911.3 micro-USD
    assert pricer.price(call).cost_nanousd == 451_911_300


def test_archestra_one_hour_writes(pricer: Pricer) -> None:
    [call] = normalize_spans([span(attrs=ARCHESTRA_SPAN)]).calls
    assert (call.input_tokens, call.cache_read_tokens) == (1_000, 6_000)
    assert (call.cache_write_tokens, call.cache_write_1h_tokens) == (3_000, 2_000)
    # 1000x3 + 6000x0.30 + 1000x3.75 + 2000x6 + 1000x15 = 3000+1800+3750+12000+15000 = 35550
    assert pricer.price(call).cost_nanousd == 35_550_000


def test_without_a_one_hour_count_every_write_is_a_five_minute_write(pricer: Pricer) -> None:
    attrs = {k: v for k, v in ARCHESTRA_SPAN.items() if not k.startswith("archestra.")}
    [call] = normalize_spans([span(attrs=attrs)]).calls
    assert (call.cache_write_tokens, call.cache_write_1h_tokens) == (3_000, 0)
    # 3000 + 1800 + 3000x3.75 + 15000 = 31050
    assert pricer.price(call).cost_nanousd == 31_050_000


def test_one_hour_count_above_the_write_total_was_left_out_of_it() -> None:
    # 5-minute writes reported as the total, the 1-hour ones only under their own name.
    attrs = {**ARCHESTRA_SPAN, "gen_ai.usage.cache_creation.input_tokens": 1_000}
    [call] = normalize_spans([span(attrs=attrs)]).calls
    assert (call.cache_write_tokens, call.cache_write_1h_tokens) == (3_000, 2_000)
    assert call.input_tokens == 1_000


def test_negative_one_hour_count_is_rejected() -> None:
    attrs = {**ARCHESTRA_SPAN, "archestra.usage.cache_creation.1h_input_tokens": -1}
    batch = normalize_spans([span(attrs=attrs)])
    assert batch.calls == []
    [rejection] = batch.rejections
    assert "archestra.usage.cache_creation.1h_input_tokens is -1" in rejection.reason
