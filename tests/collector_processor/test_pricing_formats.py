"""Price files: genai-prices JSON round trip, format detection, clear errors, import diffs."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from collector_processor.pricing.book import BEGINNING, PriceBook
from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.diff import ADDED, CHANGED, diff_catalog
from collector_processor.pricing.formats import (
    FORMAT_GENAI_PRICES,
    FORMAT_LITELLM,
    decode,
    detect_format,
    load_catalog,
)
from collector_processor.pricing.genai_json import CatalogFormatError, providers_to_raw
from collector_processor.pricing.listing import priced_models, same_rates
from tests.collector_processor.test_pricing_litellm import SONNET

D = Decimal
DEC_2026 = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def bundled() -> GenaiPricesCatalog:
    return GenaiPricesCatalog()


@pytest.fixture(scope="module")
def raw(bundled: GenaiPricesCatalog) -> list[Any]:
    return json.loads(json.dumps(providers_to_raw(bundled.providers)))


def _reload(raw: list[Any], label: str = "copy") -> GenaiPricesCatalog:
    catalog = load_catalog(FORMAT_GENAI_PRICES, decode(json.dumps(raw)), label)
    assert isinstance(catalog, GenaiPricesCatalog)
    return catalog


def test_bundled_data_round_trips_through_json(bundled: GenaiPricesCatalog, raw: list[Any]) -> None:
    copy_ = _reload(raw)
    moments = [datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 6, 10, tzinfo=UTC),
               datetime(2026, 3, 13, 20, tzinfo=UTC)]  # fmt: skip
    checked = 0
    for entry in bundled.entries():
        for at in moments:
            a = bundled.rates_for_entry(entry.provider_id, entry.model_id, at)
            b = copy_.rates_for_entry(entry.provider_id, entry.model_id, at)
            assert a == b, (entry.provider_id, entry.model_id, at)
            checked += 1
    assert checked == 3 * 2330
    assert priced_models(copy_, BEGINNING) == priced_models(bundled, BEGINNING) == 2304


@pytest.mark.parametrize(("document", "fmt"), [([], FORMAT_GENAI_PRICES), ({}, FORMAT_LITELLM)])
def test_detect_format(document: Any, fmt: str) -> None:
    assert detect_format(document) == fmt


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1', "not JSON: Expecting ',' delimiter at line 1 column 8"),
        ("", "not JSON: Expecting value at line 1 column 1"),
    ],
)
def test_undecodable_files(text: str, message: str) -> None:
    with pytest.raises(CatalogFormatError, match=message):
        decode(text)


def test_a_scalar_is_no_price_file() -> None:
    with pytest.raises(CatalogFormatError, match="JSON list .genai-prices. or object .LiteLLM."):
        detect_format(decode('"hello"'))


def _first_model(raw: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    provider = next(p for p in raw if p["id"] == "anthropic")
    return provider, provider["models"][0]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda raw: raw.__setitem__(0, 7), "provider #0 is a number, not a JSON object"),
        (lambda raw: raw[0].pop("id"), r"provider #0 \(0.id\): Field required"),
        (lambda raw: raw[0].pop("name"), r"provider 'anthropic' \(0.name\): Field required"),
        (lambda raw: _first_model(raw)[1].__setitem__("prices", {"input_mtok": "lots"}),
         "provider 'anthropic' model 'claude-2' prices .input_mtok"),
        (lambda raw: raw.clear(), "lists no models"),
    ],
)  # fmt: skip
def test_invalid_genai_prices_data(raw: list[Any], breakage: Any, message: str) -> None:
    broken = copy.deepcopy(raw)
    breakage(broken)
    with pytest.raises(CatalogFormatError, match=message):
        _reload(broken)


def _with_sonnet_cut(raw: list[Any]) -> list[Any]:
    """Sonnet 4.5 input $3 -> $2.50 from 2026-12-01, plus one new model."""
    new = copy.deepcopy(raw)
    provider = next(p for p in new if p["id"] == "anthropic")
    model = next(m for m in provider["models"] if m["id"] == "claude-sonnet-4-5")
    history = (
        model["prices"] if isinstance(model["prices"], list) else [{"prices": model["prices"]}]
    )
    cut = copy.deepcopy(history[-1]["prices"])
    cut["input_mtok"] = {"base": "2.5", "tiers": [{"start": 200000, "price": "6"}]}
    model["prices"] = [*history, {"constraint": {"start_date": "2026-12-01"}, "prices": cut}]
    provider["models"].append({"id": "claude-fable-9", "match": {"equals": "claude-fable-9"},
                               "prices": {"input_mtok": "1", "output_mtok": "5"}})  # fmt: skip
    return new


def test_identical_data_diffs_empty(bundled: GenaiPricesCatalog, raw: list[Any]) -> None:
    diff = diff_catalog(PriceBook.of(bundled), _reload(raw), BEGINNING)
    assert diff.changes == ()
    assert (diff.models, diff.unchanged) == (2304, 2304)


def test_diff_lists_added_models_and_dated_changes(
    bundled: GenaiPricesCatalog, raw: list[Any]
) -> None:
    diff = diff_catalog(PriceBook.of(bundled), _reload(_with_sonnet_cut(raw)), BEGINNING)
    assert [(c.kind, c.model_id, c.effective) for c in diff.changes] == [
        (ADDED, "claude-fable-9", BEGINNING),
        (CHANGED, "claude-sonnet-4-5", DEC_2026),
    ]
    change = diff.changed[0]
    assert change.old is not None and change.old_source == "genai-prices 0.2.3"
    assert (change.old.input_usd_per_mtok, change.new.input_usd_per_mtok) == (D(3), D("2.5"))
    assert diff.unchanged == 2303


def test_litellm_diff_against_the_bundled_catalog(bundled: GenaiPricesCatalog) -> None:
    litellm = {
        # Sonnet 4.5 at the bundled rates, tiers included: unchanged
        "claude-sonnet-4-5-20250929": {
            **SONNET, "cache_creation_input_token_cost_above_1hr_above_200k_tokens": 1.2e-05,
        },
        "gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.75e-06,
                   "output_cost_per_token": 1e-05, "cache_read_input_token_cost": 1.25e-06},
        "acme-coder-1": {"litellm_provider": "acme", "input_cost_per_token": 1e-06,
                         "output_cost_per_token": 3e-06},
    }  # fmt: skip
    catalog = load_catalog(FORMAT_LITELLM, decode(json.dumps(litellm)), "litellm")
    diff = diff_catalog(PriceBook.of(bundled), catalog, DEC_2026)
    assert [(c.kind, c.provider_id, c.model_id) for c in diff.changes] == [
        (ADDED, "acme", "acme-coder-1"),
        (CHANGED, "openai", "gpt-4o"),
    ]
    gpt = diff.changed[0]
    assert gpt.old is not None
    assert (gpt.old.input_usd_per_mtok, gpt.new.input_usd_per_mtok) == (D("2.5"), D("2.75"))
    assert gpt.effective == DEC_2026
    assert diff.unchanged == 1
    assert not same_rates(gpt.old, gpt.new) and same_rates(gpt.new, gpt.new)
