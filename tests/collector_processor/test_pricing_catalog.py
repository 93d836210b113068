"""The genai-prices catalog adapter, the rate model, and the engine's arithmetic rules."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version

import genai_prices
import pytest

from collector_processor.pricing.catalog import (
    GenaiPricesCatalog,
    LongContextTier,
    ModelRates,
    StaticCatalog,
)
from collector_processor.pricing.engine import Pricer
from semconv.records import GRANULARITY_CALL, LlmCall

AT = datetime(2025, 10, 9, 12, tzinfo=UTC)
D = Decimal


@pytest.fixture(scope="module")
def catalog() -> GenaiPricesCatalog:
    return GenaiPricesCatalog()


def test_version_names_the_pinned_package(catalog: GenaiPricesCatalog) -> None:
    assert catalog.version == f"genai-prices {version('genai-prices')}" == "genai-prices 0.2.3"


def test_flat_rates(catalog: GenaiPricesCatalog) -> None:
    rates = catalog.lookup("anthropic", "claude-opus-4-8", AT)
    assert rates is not None
    assert (rates.provider_id, rates.model_id) == ("anthropic", "claude-opus-4-8")
    assert rates.all_rates() == (D("5"), D("0.5"), D("6.25"), D("10"), D("25"), None)
    assert rates.long_context == ()


def test_tiered_prices_become_one_long_context_tier(catalog: GenaiPricesCatalog) -> None:
    rates = catalog.lookup("anthropic", "claude-sonnet-4-5", AT)
    assert rates is not None
    assert rates.all_rates() == (D("3"), D("0.3"), D("3.75"), D("6"), D("15"), None)
    (tier,) = rates.long_context
    assert tier.threshold_tokens == 200_000
    assert tier.rates.all_rates() == (D("6"), D("0.6"), D("7.5"), D("12"), D("22.5"), None)
    assert rates.for_request(200_000) is rates
    assert rates.for_request(200_001) is tier.rates


def test_several_tiers_are_kept_in_order(catalog: GenaiPricesCatalog) -> None:
    # OpenRouter qwen3-coder-flash from 2026-10-19: input $0.195, >32k $0.325, >128k $0.52.
    rates = catalog.lookup(
        "openrouter", "qwen/qwen3-coder-flash", datetime(2026, 11, 1, tzinfo=UTC)
    )
    assert rates is not None
    assert [t.threshold_tokens for t in rates.long_context] == [32_000, 128_000]
    inputs = [rates.for_request(n).input_usd_per_mtok for n in (32_000, 32_001, 128_001)]
    assert inputs == [D("0.195"), D("0.325"), D("0.52")]


def test_price_history_follows_the_date(catalog: GenaiPricesCatalog) -> None:
    before = catalog.lookup("openai", "o3", datetime(2025, 6, 9, 23, 59, tzinfo=UTC))
    after = catalog.lookup("openai", "o3", datetime(2025, 6, 10, tzinfo=UTC))
    assert before is not None and after is not None
    assert (before.input_usd_per_mtok, before.output_usd_per_mtok) == (D("10"), D("40"))
    assert (after.input_usd_per_mtok, after.output_usd_per_mtok) == (D("2"), D("8"))


def test_unknown_model_and_provider_are_none(catalog: GenaiPricesCatalog) -> None:
    assert catalog.lookup("anthropic", "claude-nonexistent-9", AT) is None
    assert catalog.lookup("no-such-provider", "gpt-4o", AT) is None
    assert catalog.lookup("", "no-vendor-model", AT) is None


def test_empty_provider_uses_genai_prices_model_matching(catalog: GenaiPricesCatalog) -> None:
    rates = catalog.lookup("", "deepseek-chat", AT)
    assert rates is not None and rates.provider_id == "deepseek"


def test_same_price_via_fallback_keeps_the_asking_provider(catalog: GenaiPricesCatalog) -> None:
    # Azure has no gpt-4o entry of its own and falls back to OpenAI's price object; the
    # memo of converted prices must not leak one provider's id into the other's result.
    via_openai = catalog.lookup("openai", "gpt-4o", AT)
    via_azure = catalog.lookup("azure", "gpt-4o", AT)
    assert via_openai is not None and via_azure is not None
    assert (via_openai.provider_id, via_azure.provider_id) == ("openai", "azure")


@pytest.mark.parametrize(
    "rates",
    [
        dict(input_usd_per_mtok=D("-1")),
        dict(output_usd_per_mtok=D("NaN")),
        dict(
            long_context=(
                LongContextTier(200_000, ModelRates("p", "m", D(1), None, None, None, D(1))),
                LongContextTier(100_000, ModelRates("p", "m", D(1), None, None, None, D(1))),
            )
        ),
    ],
)
def test_model_rates_validate(rates: dict[str, object]) -> None:
    base: dict[str, object] = dict(
        provider_id="p",
        model_id="m",
        input_usd_per_mtok=D(1),
        cache_read_usd_per_mtok=None,
        cache_write_usd_per_mtok=None,
        cache_write_1h_usd_per_mtok=None,
        output_usd_per_mtok=D(1),
    )
    with pytest.raises(ValueError):
        ModelRates(**{**base, **rates})  # type: ignore[arg-type]


# Engine arithmetic on made-up rates, where the rounding is visible.
def _rates(input_rate: str, output_rate: str, **more: Decimal | None) -> ModelRates:
    fields: dict[str, Decimal | None] = dict(
        cache_read_usd_per_mtok=None,
        cache_write_usd_per_mtok=None,
        cache_write_1h_usd_per_mtok=None,
    )
    fields.update(more)
    return ModelRates("p", "m", D(input_rate), output_usd_per_mtok=D(output_rate), **fields)  # type: ignore[arg-type]


def _call(
    provider: str = "p",
    model: str = "m",
    start_ns: int = 0,
    *,
    input_tokens: int = 0,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    cache_write_1h_tokens: int = 0,
    output_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> LlmCall:
    call = LlmCall("c", GRANULARITY_CALL, "span", "test", provider, model, "", "chat", start_ns, 0)
    return call._replace(
        input_tokens=input_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_write_tokens=cache_write_tokens,
        cache_write_1h_tokens=cache_write_1h_tokens,
        output_tokens=output_tokens,
        reasoning_tokens=reasoning_tokens,
    )


ROUNDING = [
    # $0.0625/MTok = 62.5 nano-USD per token
    (_rates("0.0625", "0"), dict(input_tokens=1), 62),  # 62.5 -> even 62
    (_rates("0.0625", "0"), dict(input_tokens=3), 188),  # 187.5 -> even 188
    (_rates("0.0625", "0"), dict(input_tokens=5), 312),  # 312.5 -> even 312
    # $0.0005/MTok = 0.5 nano per token: input 0.5 + output 0.5 = 1.0, rounded ONCE.
    # (Rounding each class first would give 0 + 0.)
    (_rates("0.0005", "0.0005"), dict(input_tokens=1, output_tokens=1), 1),
    # $0.003625/MTok (DeepSeek V4 Pro cache reads): 12 tokens = 43.5 nano -> 44
    (_rates("0.003625", "0"), dict(input_tokens=12), 44),
]


@pytest.mark.parametrize(("rates", "tokens", "nanousd"), ROUNDING)
def test_rounds_half_even_once_per_call(
    rates: ModelRates, tokens: dict[str, int], nanousd: int
) -> None:
    price = Pricer(StaticCatalog({("p", "m"): rates})).price(_call("p", "m", **tokens))
    assert price.cost_nanousd == nanousd


FALLBACKS = [
    # no cache-read rate: cache reads at input ($2): 1000x2 = 2000 micro-USD
    (_rates("2", "8"), dict(cache_read_tokens=1000), 2_000_000),
    # no cache-write rate: writes (both TTLs) at input: 1000x2
    (_rates("2", "8"), dict(cache_write_tokens=1000, cache_write_1h_tokens=600), 2_000_000),
    # 5-min rate only: 1h writes pay it: 1000x2.5
    (
        _rates("2", "8", cache_write_usd_per_mtok=D("2.5")),
        dict(cache_write_tokens=1000, cache_write_1h_tokens=600),
        2_500_000,
    ),
    # 1h claimed beyond total writes is capped at the writes: 100x4
    (
        _rates("2", "8", cache_write_usd_per_mtok=D("2.5"), cache_write_1h_usd_per_mtok=D("4")),
        dict(cache_write_tokens=100, cache_write_1h_tokens=900),
        400_000,
    ),
    # reasoning without its own rate stays inside output: 1000x8
    (_rates("2", "8"), dict(output_tokens=1000, reasoning_tokens=700), 8_000_000),
]


@pytest.mark.parametrize(("rates", "tokens", "nanousd"), FALLBACKS)
def test_missing_rates_fall_back(rates: ModelRates, tokens: dict[str, int], nanousd: int) -> None:
    price = Pricer(StaticCatalog({("p", "m"): rates})).price(_call("p", "m", **tokens))
    assert price.cost_nanousd == nanousd


AGREEMENT = [
    ("anthropic", "claude-opus-4-8"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-haiku-5-5"),
    ("openai", "gpt-5.1"),
    ("openai", "o3"),
    ("google", "gemini-2.5-pro"),
    ("deepseek", "deepseek-chat"),
    ("aws", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
]


@pytest.mark.parametrize(("provider_id", "model"), AGREEMENT)
@pytest.mark.parametrize("scale", [1, 37, 1_000])
def test_agrees_with_genai_prices_calc_price(provider_id: str, model: str, scale: int) -> None:
    """Cross-check against the package's own calculator (not hand-worked; a second opinion)."""
    tokens = dict(
        input_tokens=1200 * scale,
        cache_read_tokens=5000 * scale,
        cache_write_tokens=800 * scale,
        cache_write_1h_tokens=300 * scale,
        output_tokens=300 * scale,
    )
    call = _call(provider_id, model, int(AT.timestamp()) * 10**9, **tokens)
    ours = Pricer(GenaiPricesCatalog()).price(call).cost_nanousd
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        usage = genai_prices.Usage(
            input_tokens=call.total_input_tokens,
            cache_read_tokens=call.cache_read_tokens,
            cache_write_tokens=call.cache_write_tokens,
            cache_write_1h_tokens=call.cache_write_1h_tokens,
            output_tokens=call.output_tokens,
        )
        theirs = genai_prices.calc_price(
            usage, model, provider_id=provider_id, genai_request_timestamp=AT
        ).total_price
    assert ours == int((theirs * 10**9).to_integral_value())
