"""The price book: versions by effective date, overrides by scope and period; dollars by hand.

Rates are USD per million tokens, so tokens x rate = micro-USD and nano-USD = that x 1000.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from collector_processor.pricing.book import (
    BEGINNING,
    CatalogVersion,
    PriceBook,
    PriceOverride,
    discounted,
)
from collector_processor.pricing.catalog import (
    GenaiPricesCatalog,
    LongContextTier,
    ModelRates,
    StaticCatalog,
)
from collector_processor.pricing.engine import Pricer
from semconv.records import GRANULARITY_CALL, LlmCall

D = Decimal
JAN, MAR, JUN = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 3, 6))


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def call(model: str, at: datetime, provider: str = "anthropic", **tokens: int) -> LlmCall:
    return LlmCall("c", GRANULARITY_CALL, "span", "test", provider, model, "", "chat",
                   _ns(at), _ns(at), **tokens)  # fmt: skip


def rates(model: str, inp: str, out: str, **more: object) -> ModelRates:
    return ModelRates(
        provider_id="anthropic",
        model_id=model,
        input_usd_per_mtok=D(inp),
        cache_read_usd_per_mtok=more.get("cache_read"),  # type: ignore[arg-type]
        cache_write_usd_per_mtok=None,
        cache_write_1h_usd_per_mtok=None,
        output_usd_per_mtok=D(out),
        long_context=more.get("tiers", ()),  # type: ignore[arg-type]
    )


# claude-x: $3 in, $0.30 cache read, $15 out; above 200k input tokens $6 / $0.60 / $22.50.
TIER = LongContextTier(200_000, rates("claude-x", "6", "22.5", cache_read=D("0.6")))
V1 = StaticCatalog(
    {
        ("anthropic", "claude-x"): rates("claude-x", "3", "15", cache_read=D("0.3"), tiers=(TIER,)),
        ("anthropic", "claude-old"): rates("claude-old", "1", "4"),
    },
    version="v1",
)
# v2 from June: claude-x at $2.50 / $12.50, and it no longer lists claude-old.
V2 = StaticCatalog({("anthropic", "claude-x"): rates("claude-x", "2.5", "12.5")}, version="v2")
VERSIONS = [CatalogVersion(1, "v1", BEGINNING, V1), CatalogVersion(2, "v2", JUN, V2)]


@pytest.mark.parametrize(
    ("model", "at", "nanousd", "label"),
    [
        # before v2 takes effect: 1000x3 + 100x15 = 3000 + 1500
        ("claude-x", datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC), 4_500_000, "v1"),
        # from v2's effective instant: 1000x2.5 + 100x12.5 = 2500 + 1250
        ("claude-x", JUN, 3_750_000, "v2"),
        # a model v2 does not list keeps v1's price: 1000x1 + 100x4 = 1000 + 400
        ("claude-old", datetime(2026, 7, 1, tzinfo=UTC), 1_400_000, "v1"),
        # a dated id falls back to the undated one: v2's price
        ("claude-x-20260101", datetime(2026, 7, 1, tzinfo=UTC), 3_750_000, "v2"),
    ],
)
def test_versions_by_effective_date(model: str, at: datetime, nanousd: int, label: str) -> None:
    price = Pricer(PriceBook(VERSIONS)).price(call(model, at, input_tokens=1000, output_tokens=100))
    assert (price.cost_nanousd, price.price_version) == (nanousd, label)


def test_newest_stored_version_wins_even_with_an_earlier_effective_date() -> None:
    # v3 is stored last and in force from the start: it wins over v2 after June too.
    v3 = StaticCatalog({("anthropic", "claude-x"): rates("claude-x", "2", "10")}, version="v3")
    book = PriceBook([*VERSIONS, CatalogVersion(3, "v3", BEGINNING, v3)])
    # 1000x2 + 100x10 = 2000 + 1000
    price = Pricer(book).price(call("claude-x", JUN, input_tokens=1000, output_tokens=100))
    assert (price.cost_nanousd, price.price_version) == (3_000_000, "v3")


def test_unpriced_reason_names_every_version_consulted() -> None:
    price = Pricer(PriceBook(VERSIONS)).price(call("nope", JUN, input_tokens=1))
    assert price.cost_nanousd is None
    assert price.price_version == "v2"
    assert "not in v2 nor 1 older price version(s)" in price.reason


def ov(oid: int, model: str = "claude-x", **kw: object) -> PriceOverride:
    fields: dict[str, object] = {"provider_id": "", "org_id": None, "workspace_id": None,
                                 "valid_from": JAN, "valid_until": None}  # fmt: skip
    fields.update(kw)
    return PriceOverride(oid, model, **fields)  # type: ignore[arg-type]


OVERRIDES = [
    ov(1, discount_pct=D(10)),  # everyone: 10% off
    ov(2, org_id=1, discount_pct=D(20)),  # org 1: 20% off
    # workspace 7 of org 1, Jan..Mar: flat $2 / $10
    ov(3, org_id=1, workspace_id=7, valid_until=MAR, rates=rates("claude-x", "2", "10")),
    ov(4, org_id=2, discount_pct=D(30), provider_id="aws"),  # org 2, Bedrock only
]
FEB = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("org_id", "workspace_id", "at", "nanousd", "label"),
    [
        # the workspace's flat price: 1000x2 + 100x10 = 2000 + 1000
        (1, 7, FEB, 3_000_000, "override #3"),
        # the same workspace once its override has ended (until is exclusive): org's 20% off
        # (1000x3 + 100x15) x 0.8 = 4500 x 0.8 = 3600
        (1, 7, MAR, 3_600_000, "v1 + override #2"),
        (1, 8, FEB, 3_600_000, "v1 + override #2"),  # another workspace of org 1
        # org 2's override is for Bedrock only: the global 10% applies, 4500 x 0.9 = 4050
        (2, 9, FEB, 4_050_000, "v1 + override #1"),
        (None, None, FEB, 4_050_000, "v1 + override #1"),  # no scope given: global only
        # before every override starts: the catalog, 4500
        (1, 7, datetime(2025, 12, 31, 23, 59, tzinfo=UTC), 4_500_000, "v1"),
    ],
)
def test_override_scope_and_period(
    org_id: int | None, workspace_id: int | None, at: datetime, nanousd: int, label: str
) -> None:
    book = PriceBook(VERSIONS[:1], OVERRIDES)
    c = call("claude-x", at, input_tokens=1000, output_tokens=100)
    price = Pricer(book).price(c, org_id, workspace_id)
    assert (price.cost_nanousd, price.price_version) == (nanousd, label)
    assert price.priced_model == "claude-x"


def test_newest_override_of_the_same_scope_wins() -> None:
    book = PriceBook(VERSIONS[:1], [ov(2, org_id=1, discount_pct=D(20)),
                                    ov(5, org_id=1, discount_pct=D(25))])  # fmt: skip
    # 4500 x 0.75 = 3375
    price = Pricer(book).price(call("claude-x", FEB, input_tokens=1000, output_tokens=100), 1, 7)
    assert (price.cost_nanousd, price.price_version) == (3_375_000, "v1 + override #5")


def test_provider_pinned_override_applies_to_that_provider_only() -> None:
    bedrock = StaticCatalog({("aws", "claude-x"): rates("claude-x", "3.3", "16.5")}, "v1")
    book = PriceBook([CatalogVersion(1, "v1", BEGINNING, bedrock)], [OVERRIDES[3]])
    # (1000x3.3 + 100x16.5) x 0.7 = (3300 + 1650) x 0.7 = 3465
    c = call("claude-x", FEB, "aws.bedrock", input_tokens=1000, output_tokens=100)
    assert Pricer(book).price(c, 2, 9).cost_nanousd == 3_465_000


def test_discount_applies_to_long_context_tiers_too() -> None:
    book = PriceBook(VERSIONS[:1], [ov(1, discount_pct=D(10))])
    # 250k input > 200k: every token at the tier, 10% off: $5.40 in, $20.25 out.
    # 250000x5.4 + 1000x20.25 = 1350000 + 20250 = 1370250 micro-USD
    c = call("claude-x", FEB, input_tokens=250_000, output_tokens=1000)
    assert Pricer(book).price(c).cost_nanousd == 1_370_250_000


def test_custom_model_rates_with_engine_fallbacks() -> None:
    custom = rates("acme-coder-1", "1", "2")  # no cache-read rate: billed at input
    book = PriceBook(VERSIONS[:1], [ov(9, model="acme-coder-1", org_id=1, rates=custom)])
    c = call("acme-coder-1", FEB, "acme", input_tokens=1000, cache_read_tokens=2000,
             output_tokens=500)  # fmt: skip
    # 1000x1 + 2000x1 + 500x2 = 1000 + 2000 + 1000 = 4000 micro-USD
    price = Pricer(book).price(c, 1, 3)
    assert (price.cost_nanousd, price.price_version, price.priced_model) == (
        4_000_000,
        "override #9",
        "acme-coder-1",
    )
    assert Pricer(book).price(c, 2, 3).cost_nanousd is None  # another org: still unpriced


def test_discount_without_a_catalog_price_leaves_the_call_unpriced() -> None:
    book = PriceBook(VERSIONS[:1], [ov(1, model="acme-coder-1", discount_pct=D(10))])
    assert Pricer(book).price(call("acme-coder-1", FEB, input_tokens=10)).cost_nanousd is None


@pytest.mark.parametrize(
    ("override_model", "call_model", "applies"),
    [
        ("claude-x", "claude-x-20260101", True),  # undated override covers dated ids
        ("claude-x", "anthropic/claude-x[1m]", True),  # prefixes and [1m] are normalized
        ("claude-x-20260101", "claude-x-20260101", True),
        ("claude-x-20260101", "claude-x", False),  # a dated override is that snapshot only
    ],
)
def test_override_model_matching(override_model: str, call_model: str, applies: bool) -> None:
    book = PriceBook(VERSIONS[:1], [ov(1, model=override_model, discount_pct=D(50))])
    # 1000x3 = 3000 micro-USD; half with the override
    cost = Pricer(book).price(call(call_model, FEB, input_tokens=1000)).cost_nanousd
    assert cost == (1_500_000 if applies else 3_000_000)


def test_real_catalog_discount() -> None:
    book = PriceBook.of(GenaiPricesCatalog())
    book = PriceBook(book.versions, [ov(1, model="claude-sonnet-4-5", discount_pct=D(15))])
    c = call("claude-sonnet-4-5-20250929", FEB,
             input_tokens=1000, output_tokens=100)  # fmt: skip
    # Sonnet 4.5 $3 / $15: (3000 + 1500) x 0.85 = 3825 micro-USD
    assert Pricer(book).price(c).cost_nanousd == 3_825_000


def test_discounted_rates_are_exact() -> None:
    r = rates("claude-x", "3", "15", cache_read=D("0.3"), tiers=(TIER,))
    cut = discounted(r, D("12.5"))
    assert cut.all_rates() == (D("2.625"), D("0.2625"), None, None, D("13.125"), None)
    assert cut.long_context[0].rates.all_rates()[:2] == (D("5.25"), D("0.525"))


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({}, "either a discount or rates"),
        ({"discount_pct": D(10), "rates": rates("m", "1", "1")}, "either a discount or rates"),
        ({"discount_pct": D(0)}, "percentage in (0, 100]"),
        ({"discount_pct": D(101)}, "percentage in (0, 100]"),
        ({"discount_pct": D(5), "valid_until": JAN}, "end after it starts"),
        ({"discount_pct": D(5), "workspace_id": 3}, "names its org"),
    ],
)
def test_invalid_overrides_are_refused(kw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("]", r"\]")):
        ov(1, **kw)


def test_a_book_needs_a_version() -> None:
    with pytest.raises(ValueError, match="at least one price version"):
        PriceBook([])
