"""A call whose telemetry reported no usage is unpriced ("no usage reported"), never $0."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.engine import NO_USAGE_REASON, Pricer
from collector_processor.pricing.unpriced import UnpricedModelWatch
from semconv.dialects.usage import NO_USAGE
from store.writer import WriteBatch
from tests.collector_processor.test_pricing_engine import call
from tests.store._evals_reconcile_rows import engine

__all__ = ["engine"]  # fixture: a migrated store, on SQLite and on PostgreSQL


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    return Pricer(GenaiPricesCatalog())


def test_known_model_without_usage_is_unpriced_under_its_catalog_id(pricer: Pricer) -> None:
    c = call("openai", "gpt-4o-2024-08-06")._replace(extra=NO_USAGE.extra())
    price = pricer.price(c)
    assert price.cost_nanousd is None and not price.priced
    assert price.reason == NO_USAGE_REASON == "no usage reported"
    # stored beside the model's priced calls, not under the dated id as sent
    assert (price.provider_id, price.priced_model) == ("openai", "gpt-4o")
    assert price.price_version == "genai-prices 0.2.3"


def test_reported_zero_usage_of_a_known_model_still_costs_zero(pricer: Pricer) -> None:
    assert pricer.price(call("openai", "gpt-4o-2024-08-06")).cost_nanousd == 0


def test_unknown_model_without_usage_says_no_usage(pricer: Pricer) -> None:
    c = call("acme", "acme-coder-1")._replace(extra=NO_USAGE.extra())
    price = pricer.price(c)
    assert (price.cost_nanousd, price.priced_model, price.reason) == (None, "", NO_USAGE_REASON)


def test_earlier_reasons_still_win(pricer: Pricer) -> None:
    c = call("openai", " ")._replace(extra=NO_USAGE.extra())
    assert pricer.price(c).reason == "no model reported"


def _row(call_id: str, model: str, reason: str) -> dict[str, object]:
    return {"call_id": call_id, "org_id": 1, "model": model, "provider": "openai",
            "cost_nanousd": None, "start_ns": 5, "unpriced_reason": reason}  # fmt: skip


def test_no_usage_is_not_an_unpriced_model_sighting(engine: Engine) -> None:
    seen: list[tuple[int, str, str]] = []
    watch = UnpricedModelWatch(engine, lambda o, m, p: seen.append((o, m, p)))
    rows = [_row("c1", "gpt-4o", NO_USAGE_REASON), _row("c2", "acme-coder-1", "not in catalog")]
    watch.after_commit([WriteBatch(1, calls=rows)])
    assert seen == [(1, "acme-coder-1", "openai")]
