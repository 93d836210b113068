"""LiteLLM's price map as a catalog: exact rates, tiers, ids, skipped rows, bad files.

Rates in the file are USD per token; x 1e6 = USD per million tokens, and tokens x that rate
= micro-USD.  Each dollar figure below is worked by hand from the file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from collector_processor.pricing.engine import Pricer
from collector_processor.pricing.formats import decode
from collector_processor.pricing.genai_json import CatalogFormatError
from collector_processor.pricing.litellm import LiteLLMCatalog, litellm_provider_id
from semconv.records import GRANULARITY_CALL, LlmCall

AT = datetime(2026, 11, 20, tzinfo=UTC)
SONNET = {
    "litellm_provider": "anthropic",
    "input_cost_per_token": 3e-06,
    "output_cost_per_token": 1.5e-05,
    "cache_read_input_token_cost": 3e-07,
    "cache_creation_input_token_cost": 3.75e-06,
    "cache_creation_input_token_cost_above_1hr": 6e-06,
    "input_cost_per_token_above_200k_tokens": 6e-06,
    "output_cost_per_token_above_200k_tokens": 2.25e-05,
    "cache_read_input_token_cost_above_200k_tokens": 6e-07,
    "cache_creation_input_token_cost_above_200k_tokens": 7.5e-06,
}
DOC: dict[str, Any] = {
    "sample_spec": {"input_cost_per_token": 0.0, "litellm_provider": "one of ..."},
    "claude-sonnet-4-5-20250929": SONNET,
    "gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06,
               "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06,
               "input_cost_per_token_flex": 1.25e-06, "output_cost_per_token_flex": 5e-06},
    "reasoner-1": {"litellm_provider": "openai", "input_cost_per_token": 1e-06,
                   "output_cost_per_token": 4e-06, "output_cost_per_reasoning_token": 2e-06},
    "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0": {
        "litellm_provider": "bedrock_converse", "input_cost_per_token": 3.3e-06,
        "output_cost_per_token": 1.65e-05},
    "azure/gpt-4o": {"litellm_provider": "azure", "input_cost_per_token": 2.75e-06,
                     "output_cost_per_token": 1.1e-05},
    "openrouter/anthropic/claude-sonnet-4": {"litellm_provider": "openrouter",
                                             "input_cost_per_token": 3e-06,
                                             "output_cost_per_token": 1.5e-05},
    "gemini/gemini-2.5-pro": {"litellm_provider": "gemini", "input_cost_per_token": 1.25e-06,
                              "output_cost_per_token": 1e-05},
    "text-embedding-3-small": {"litellm_provider": "openai", "mode": "embedding",
                               "input_cost_per_token": 2e-08, "output_cost_per_token": 0.0},
    "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation",
                 "output_cost_per_image": 0.04},
    "widget-20250101": {"litellm_provider": "openai", "input_cost_per_token": 1e-06,
                        "output_cost_per_token": 1e-06},
    "widget-20250601": {"litellm_provider": "openai", "input_cost_per_token": 2e-06,
                        "output_cost_per_token": 2e-06},
    "claude-3-5-sonnet-20240620": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06,
                                   "output_cost_per_token": 1.5e-05},
    "claude-3-5-sonnet-20241022": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06,
                                   "output_cost_per_token": 1.5e-05},
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> LiteLLMCatalog:
    # Decoded as the importer does: numbers exact, never through float.
    return LiteLLMCatalog(decode(json.dumps(DOC)), version="litellm test")


def call(provider: str, model: str, **tokens: int) -> LlmCall:
    start = int(AT.timestamp()) * 1_000_000_000
    return LlmCall("c", GRANULARITY_CALL, "span", "test", provider, model, "", "chat",
                   start, start, **tokens)  # fmt: skip


PRICED = [
    # 1000x3 + 2000x0.3 + 300x3.75 + 100x6 + 300x15 = 3000 + 600 + 1125 + 600 + 4500
    ("anthropic", "claude-sonnet-4-5-20250929",
     dict(input_tokens=1000, cache_read_tokens=2000, cache_write_tokens=400,
          cache_write_1h_tokens=100, output_tokens=300), 9_825_000),
    # the undated id answers with its one dated row: 1000x3 + 100x15 = 4500
    ("anthropic", "claude-sonnet-4-5", dict(input_tokens=1000, output_tokens=100), 4_500_000),
    # above 200k input tokens, every token at the tier: 250000x6 + 1000x22.5 = 1500000 + 22500
    ("anthropic", "claude-sonnet-4-5", dict(input_tokens=250_000, output_tokens=1000),
     1_522_500_000),
    # Bedrock's own row: 1000x3.3 + 100x16.5 = 3300 + 1650
    ("aws.bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
     dict(input_tokens=1000, output_tokens=100), 4_950_000),
    # Azure's own row: 1000x2.75 + 100x11 = 2750 + 1100
    ("az.ai.openai", "gpt-4o", dict(input_tokens=1000, output_tokens=100), 3_850_000),
    # provider inferred from the id: 1000x2.5 + 100x10 = 2500 + 1000
    ("", "gpt-4o", dict(input_tokens=1000, output_tokens=100), 3_500_000),
    # OpenRouter keeps its vendor/model ids: 1000x3 + 100x15
    ("openrouter", "anthropic/claude-sonnet-4", dict(input_tokens=1000, output_tokens=100),
     4_500_000),
    # Gemini API resource name: 1000x1.25 + 100x10 = 1250 + 1000
    ("gcp.gemini", "models/gemini-2.5-pro", dict(input_tokens=1000, output_tokens=100),
     2_250_000),
    # distinct reasoning rate: 100x1 + (1000 - 400)x4 + 400x2 = 100 + 2400 + 800
    ("openai", "reasoner-1", dict(input_tokens=100, output_tokens=1000, reasoning_tokens=400),
     3_300_000),
    # embeddings: 1,000,000 x 0.02 = 20000 micro-USD
    ("openai", "text-embedding-3-small", dict(input_tokens=1_000_000), 20_000_000),
    # two dated rows at one price give the undated alias: 1000x3 + 100x15
    ("anthropic", "claude-3-5-sonnet", dict(input_tokens=1000, output_tokens=100), 4_500_000),
]  # fmt: skip


@pytest.mark.parametrize(("provider", "model", "tokens", "nanousd"), PRICED)
def test_litellm_prices(
    catalog: LiteLLMCatalog, provider: str, model: str, tokens: dict[str, int], nanousd: int
) -> None:
    price = Pricer(catalog).price(call(provider, model, **tokens))
    assert price.cost_nanousd == nanousd, price.reason
    assert price.price_version == "litellm test"


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "dall-e-3"),  # priced per image, not per token: never $0
        ("openai", "widget"),  # dated rows disagree: no undated alias
        ("anthropic", "claude-opus-4-8"),  # not in the file
    ],
)
def test_litellm_unpriced(catalog: LiteLLMCatalog, provider: str, model: str) -> None:
    assert Pricer(catalog).price(call(provider, model, input_tokens=10)).cost_nanousd is None


def test_rates_are_exact_decimals(catalog: LiteLLMCatalog) -> None:
    r = catalog.lookup("anthropic", "claude-sonnet-4-5-20250929", AT)
    assert r is not None
    D = Decimal
    assert r.all_rates() == (D("3"), D("0.3"), D("3.75"), D("6"), D("15"), None)
    (tier,) = r.long_context
    assert tier.threshold_tokens == 200_000
    # a class without an "above" rate keeps its base rate inside the tier (1 h writes: 6)
    assert tier.rates.all_rates() == (D("6"), D("0.6"), D("7.5"), D("6"), D("22.5"), None)


def test_entries_list_rows_once_with_service_tiers(catalog: LiteLLMCatalog) -> None:
    entries = {(e.provider_id, e.model_id): e for e in catalog.entries()}
    assert ("openai", "dall-e-3") not in entries
    assert ("anthropic", "claude-3-5-sonnet") not in entries  # an alias, not a row
    assert catalog.skipped == ["dall-e-3"]
    flex = entries[("openai", "gpt-4o")].service_tiers_at(AT)["service_tier=flex"]
    assert (flex.input_usd_per_mtok, flex.output_usd_per_mtok) == (Decimal("1.25"), Decimal(5))


@pytest.mark.parametrize(
    ("name", "provider_id"),
    [
        ("vertex_ai-anthropic_models", "google"),
        ("bedrock_converse", "aws"),
        ("text-completion-openai", "openai"),
        ("gemini", "google"),
        ("xai", "x-ai"),
        ("azure_ai", "azure"),
    ],
)
def test_litellm_provider_names(name: str, provider_id: str) -> None:
    assert litellm_provider_id(name) == provider_id


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "JSON object of model -> prices"),
        ({"dall-e-3": DOC["dall-e-3"]}, "no model in this file has a per-token price"),
        ({"m": {"input_cost_per_token": -1e-06}}, "model 'm': input_cost_per_token is"),
        ({"m": {"output_cost_per_token": "cheap"}}, "model 'm': output_cost_per_token is"),
    ],
)
def test_bad_litellm_files(document: Any, message: str) -> None:
    with pytest.raises(CatalogFormatError, match=message):
        LiteLLMCatalog(document, version="bad")
