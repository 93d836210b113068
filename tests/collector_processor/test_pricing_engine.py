"""Pricing engine against the pinned genai-prices data; every figure is worked by hand.

Rates are USD per million tokens (MTok), as published and as carried by genai-prices 0.2.3.
USD/MTok x tokens = micro-USD, so nano-USD = sum(tokens x rate) x 1000.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.engine import Pricer
from semconv.records import GRANULARITY_AGGREGATE, GRANULARITY_CALL, LlmCall


def _ns(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000_000


AUTUMN_2025 = _ns(2025, 10, 9, 12)


def call(
    provider: str,
    model: str,
    start_ns: int = AUTUMN_2025,
    *,
    input_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    output_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> LlmCall:
    return LlmCall(
        call_id="c1",
        granularity=GRANULARITY_CALL,
        source="span",
        dialect="test",
        provider=provider,
        request_model=model,
        response_model="",
        operation="chat",
        start_ns=start_ns,
        end_ns=start_ns,
        input_tokens=input_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_1h_tokens=cache_write_1h_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning_tokens,
    )


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer(GenaiPricesCatalog())


def test_claude_code_fixture_call(pricer: Pricer) -> None:
    # Opus 4.8: $5 in, $0.50 cache read, $6.25 cache write (5 min), $25 out.
    # 1200x5 + 5000x0.5 + 800x6.25 + 300x25 = 6000 + 2500 + 5000 + 7500 = 21000 micro-USD
    # = $0.021000.  The "[1m]" suffix only asks for the 1M context window.
    c = call(
        "anthropic",
        "claude-opus-4-8[1m]",
        input_tokens=1200,
        output_tokens=300,
        cache_read_tokens=5000,
        cache_write_tokens=800,
    )
    price = pricer.price(c)
    assert price.cost_nanousd == 21_000_000
    assert (price.provider_id, price.priced_model) == ("anthropic", "claude-opus-4-8")
    assert price.price_version == "genai-prices 0.2.3"
    assert price.reason == ""


@pytest.mark.parametrize("provider", ["openai", ""])
def test_codex_fixture_call(pricer: Pricer, provider: str) -> None:
    # gpt-5.1-codex is priced as GPT-5.1: $1.25 in, $0.125 cached in, $10 out.
    # 200x1.25 + 1000x0.125 + 300x10 = 250 + 125 + 3000 = 3375 micro-USD = $0.003375.
    # The 100 reasoning tokens are inside the 300 output tokens: not charged again.
    c = call(
        provider,
        "gpt-5.1-codex",
        input_tokens=200,
        cache_read_tokens=1000,
        output_tokens=300,
        reasoning_tokens=100,
    )
    price = pricer.price(c)
    assert price.cost_nanousd == 3_375_000
    assert (price.provider_id, price.priced_model) == ("openai", "gpt-5.1")


# Sonnet 4.5 above 200k input tokens: $6 in, $0.60 read, $7.50 write, $12 1h write, $22.50 out
# for EVERY token of the request; at or below 200k: $3, $0.30, $3.75, $6, $15.
LONG_CONTEXT = [
    pytest.param(
        dict(
            input_tokens=150_000,
            cache_read_tokens=50_000,
            cache_write_tokens=10_000,
            output_tokens=2_000,
        ),
        # total input 210_000 > 200_000:
        # 150000x6 + 50000x0.6 + 10000x7.5 + 2000x22.5 = 900000 + 30000 + 75000 + 45000
        1_050_000_000,
        id="above-200k-all-classes-at-tier",
    ),
    pytest.param(
        dict(
            input_tokens=140_000,
            cache_read_tokens=50_000,
            cache_write_tokens=10_000,
            output_tokens=2_000,
        ),
        # total input exactly 200_000 is not above the threshold:
        # 140000x3 + 50000x0.3 + 10000x3.75 + 2000x15 = 420000 + 15000 + 37500 + 30000
        502_500_000,
        id="exactly-200k-base",
    ),
    pytest.param(
        dict(input_tokens=195_000, cache_read_tokens=5_001, output_tokens=100_000),
        # 200_001 > 200_000; the threshold counts input only, never output:
        # 195000x6 + 5001x0.6 + 100000x22.5 = 1170000 + 3000.6 + 2250000 = 3423000.6 micro-USD
        3_423_000_600,
        id="one-token-over",
    ),
    pytest.param(
        dict(input_tokens=1_000, cache_write_tokens=300_000, cache_write_1h_tokens=300_000),
        # 301_000 > 200_000 and all writes are 1h: 1000x6 + 300000x12 = 6000 + 3600000
        3_606_000_000,
        id="1h-writes-at-tier",
    ),
]


@pytest.mark.parametrize(("tokens", "nanousd"), LONG_CONTEXT)
def test_sonnet_long_context_tier(pricer: Pricer, tokens: dict[str, int], nanousd: int) -> None:
    price = pricer.price(call("anthropic", "claude-sonnet-4-5-20250929", **tokens))
    assert price.priced_model == "claude-sonnet-4-5"
    assert price.cost_nanousd == nanousd


def test_aggregate_is_not_judged_as_one_long_request(pricer: Pricer) -> None:
    # A session total of 300k input tokens over many calls stays at Sonnet 4.5 base rates:
    # 300000x3 + 10000x15 = 900000 + 150000 micro-USD.  (As one call it would be at the tier.)
    one = call("anthropic", "claude-sonnet-4-5", input_tokens=300_000, output_tokens=10_000)
    session = one._replace(granularity=GRANULARITY_AGGREGATE)
    assert pricer.price(session).cost_nanousd == 1_050_000_000
    # one call: 300000x6 + 10000x22.5 = 1800000 + 225000
    assert pricer.price(one).cost_nanousd == 2_025_000_000


def test_one_hour_cache_write(pricer: Pricer) -> None:
    # Opus 4.8 writes: $6.25 for 5 min, $10 for 1 h.  1000 written, 400 of them for 1 h:
    # 600x6.25 + 400x10 = 3750 + 4000 = 7750 micro-USD.
    c = call("anthropic", "claude-opus-4-8", cache_write_tokens=1000, cache_write_1h_tokens=400)
    assert pricer.price(c).cost_nanousd == 7_750_000


def test_one_hour_write_falls_back_to_five_minute_rate(pricer: Pricer) -> None:
    # OpenRouter lists Sonnet 4 with a single cache-write rate ($3.75): 1h writes pay it too.
    # 1000x3.75 = 3750 micro-USD.
    c = call(
        "openrouter",
        "anthropic/claude-sonnet-4",
        cache_write_tokens=1000,
        cache_write_1h_tokens=1000,
    )
    assert pricer.price(c).cost_nanousd == 3_750_000


def test_cache_write_without_rate_is_billed_as_input(pricer: Pricer) -> None:
    # GPT-5.1 has no cache-write price: $1.25 input.  500x1.25 = 625 micro-USD.
    c = call("openai", "gpt-5.1", cache_write_tokens=500)
    assert pricer.price(c).cost_nanousd == 625_000


def test_distinct_reasoning_rate(pricer: Pricer) -> None:
    # Perplexity sonar-deep-research: $2 in, $8 out, $3 reasoning (a part of output).
    # 100x2 + (1000 - 400)x8 + 400x3 = 200 + 4800 + 1200 = 6200 micro-USD.
    c = call(
        "perplexity",
        "sonar-deep-research",
        input_tokens=100,
        output_tokens=1000,
        reasoning_tokens=400,
    )
    assert pricer.price(c).cost_nanousd == 6_200_000


# Platform and routed ids, each with 1000 input and 100 output tokens.
PLATFORM_IDS = [
    # Bedrock US cross-region profile: regional list price, 10% over Anthropic's ($3.30/$16.50)
    # 1000x3.3 + 100x16.5 = 3300 + 1650
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws",
     "regional.anthropic.claude-sonnet-4-5-20250929-v1:0", 4_950_000),
    # Bedrock global profile: Anthropic's own rates ($3/$15): 3000 + 1500; provider inferred
    ("", "global.anthropic.claude-sonnet-4-5-20250929-v1:0", "aws",
     "global.anthropic.claude-sonnet-4-5-20250929-v1:0", 4_500_000),
    # Bedrock in-region id for Sonnet 3.5 ($3/$15)
    ("aws.bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "aws",
     "regional.anthropic.claude-3-5-sonnet-20240620-v1:0", 4_500_000),
    # An APAC Opus 4.8 profile genai-prices does not list: Anthropic's list price ($5/$25)
    # 5000 + 2500
    ("aws.bedrock", "apac.anthropic.claude-opus-4-8-v1:0", "anthropic", "claude-opus-4-8",
     7_500_000),
    # Vertex AI "@version" id: Opus 4.1 at $15/$75: 15000 + 7500
    ("gcp.vertex_ai", "claude-opus-4-1@20250805", "google", "claude-4-opus", 22_500_000),
    # Vertex id with no provider reported
    ("", "claude-sonnet-4-5@20250929", "google", "claude-sonnet-4-5", 4_500_000),
    # LiteLLM / OpenRouter-style prefixes: GPT-4o $2.50/$10: 2500 + 1000
    ("", "openai/gpt-4o", "openai", "gpt-4o", 3_500_000),
    ("litellm", "anthropic/claude-opus-4-8", "anthropic", "claude-opus-4-8", 7_500_000),
    # OpenRouter keeps its own catalog ids: Sonnet 4 $3/$15
    ("openrouter", "anthropic/claude-sonnet-4", "openrouter", "anthropic/claude-sonnet-4",
     4_500_000),
    # Azure OpenAI resolves through genai-prices' azure -> openai fallback
    ("az.ai.openai", "gpt-4o", "azure", "gpt-4o", 3_500_000),
    # Gemini API "models/" resource name and semconv provider: 2.5 Pro $1.25/$10: 1250 + 1000
    ("gcp.gemini", "models/gemini-2.5-pro", "google", "gemini-2.5-pro", 2_250_000),
    # Dated snapshot genai-prices does not list: priced as the undated model (GPT-5.1)
    # 1250 + 1000
    ("openai", "gpt-5.1-codex-2025-11-13", "openai", "gpt-5.1", 2_250_000),
    # A dated snapshot with its OWN price is kept: gpt-4o-2024-05-13 is $5/$15: 5000 + 1500
    ("openai", "gpt-4o-2024-05-13", "openai", "gpt-4o-2024-05-13", 6_500_000),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "model", "provider_id", "priced", "nanousd"), PLATFORM_IDS)
def test_platform_and_prefixed_ids(
    pricer: Pricer, provider: str, model: str, provider_id: str, priced: str, nanousd: int
) -> None:
    price = pricer.price(call(provider, model, input_tokens=1000, output_tokens=100))
    assert (price.provider_id, price.priced_model, price.cost_nanousd) == (
        provider_id,
        priced,
        nanousd,
    )


@pytest.mark.parametrize(
    ("provider", "model", "reason_part"),
    [
        ("anthropic", "claude-nonexistent-9", "not in genai-prices 0.2.3"),
        ("", "totally-unknown-model", "not in genai-prices 0.2.3"),
        ("some-unknown-cloud", "gpt-4o", "not in genai-prices 0.2.3"),
        ("anthropic", "", "no model reported"),
        ("", "   ", "no model reported"),
        # Known model, but priced by audio hours only: no token rate, so never $0.
        ("groq", "whisper-large-v3", "not in genai-prices 0.2.3"),
    ],
)
def test_unpriced_is_none_never_zero(
    pricer: Pricer, provider: str, model: str, reason_part: str
) -> None:
    price = pricer.price(call(provider, model, input_tokens=1000, output_tokens=100))
    assert price.cost_nanousd is None
    assert not price.priced
    assert price.priced_model == ""
    assert reason_part in price.reason


def test_response_model_wins_over_request_model(pricer: Pricer) -> None:
    # Requested an alias, served Opus 4.8 ($5 in): 1000x5 = 5000 micro-USD.
    c = call("anthropic", "unknown-alias", input_tokens=1000)._replace(
        response_model="claude-opus-4-8"
    )
    assert pricer.price(c).cost_nanousd == 5_000_000


def test_known_model_with_no_tokens_costs_zero(pricer: Pricer) -> None:
    price = pricer.price(call("anthropic", "claude-opus-4-8"))
    assert price.cost_nanousd == 0
    assert price.priced


def test_free_model_listed_without_prices_is_priced_zero(pricer: Pricer) -> None:
    # genai-prices lists ":free" OpenRouter variants with an empty price set.
    c = call("openrouter", "meta-llama/llama-3.3-70b-instruct:free", input_tokens=10_000)
    price = pricer.price(c)
    assert (price.cost_nanousd, price.priced_model) == (0, "meta-llama/llama-3.3-70b-instruct:free")


def test_negative_token_count_is_unpriced(pricer: Pricer) -> None:
    price = pricer.price(call("anthropic", "claude-opus-4-8", input_tokens=-5))
    assert price.cost_nanousd is None
    assert price.reason == "negative token count"


# Price history: OpenAI cut o3 from $10/$40 to $2/$8 on 2025-06-10 (cached input $0.50 both).
# 1000 in, 500 cached, 1000 out.
O3_HISTORY = [
    # before: 1000x10 + 500x0.5 + 1000x40 = 10000 + 250 + 40000
    (_ns(2025, 6, 9, 23, 59, 59), 50_250_000),
    # from the change date (UTC): 1000x2 + 500x0.5 + 1000x8 = 2000 + 250 + 8000
    (_ns(2025, 6, 10, 0, 0, 0), 10_250_000),
    (_ns(2026, 1, 1), 10_250_000),
]


@pytest.mark.parametrize(("start_ns", "nanousd"), O3_HISTORY)
def test_price_history_o3(pricer: Pricer, start_ns: int, nanousd: int) -> None:
    c = call("openai", "o3", start_ns, input_tokens=1000, cache_read_tokens=500, output_tokens=1000)
    assert pricer.price(c).cost_nanousd == nanousd


def test_price_history_sonnet_4_6_long_context_ends(pricer: Pricer) -> None:
    # Sonnet 4.6 had the >200k tier until 2026-03-12; from 2026-03-13 it is flat $3/$15.
    tokens = dict(input_tokens=250_000, output_tokens=1_000)
    before = pricer.price(call("anthropic", "claude-sonnet-4-6", _ns(2026, 3, 12, 18), **tokens))
    after = pricer.price(call("anthropic", "claude-sonnet-4-6", _ns(2026, 3, 13, 6), **tokens))
    # before: 250000x6 + 1000x22.5 = 1500000 + 22500; after: 250000x3 + 1000x15 = 750000 + 15000
    assert (before.cost_nanousd, after.cost_nanousd) == (1_522_500_000, 765_000_000)


@pytest.mark.parametrize(
    ("hour", "nanousd"),
    [
        # DeepSeek chat: $0.27 in / $1.10 out from 00:30 to 16:30 UTC, $0.135 / $0.55 off-peak.
        # 1M in + 1M out: 270000 + 1100000 at peak, 135000 + 550000 off-peak.
        (12, 1_370_000_000),
        (20, 685_000_000),
    ],
)
def test_time_of_day_prices_on_one_date(pricer: Pricer, hour: int, nanousd: int) -> None:
    c = call(
        "deepseek",
        "deepseek-chat",
        _ns(2025, 10, 9, hour),
        input_tokens=1_000_000,
        output_tokens=1_000_000,
    )
    assert pricer.price(c).cost_nanousd == nanousd
