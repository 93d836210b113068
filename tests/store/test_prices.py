"""Stored prices on SQLite and PostgreSQL: versions, overrides, epoch, refresh, sightings."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, insert, select

from collector_processor.pricing.book import BEGINNING
from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.engine import Pricer
from collector_processor.pricing.refresh import PriceBookRefresher
from collector_processor.pricing.unpriced import UnpricedModelWatch
from store import prices as store_prices
from store.audit import list_audit
from store.engine import make_engine
from store.identity import create_key
from store.migrate import upgrade
from store.price_overrides import (
    OverrideSpec,
    Scope,
    ScopeError,
    add_override,
    list_overrides,
    remove_override,
    resolve_scope,
)
from store.prices import (
    ensure_bundled_version,
    find_version,
    list_versions,
    load_price_book,
    price_epoch,
    store_version,
)
from store.tables import PriceVersion
from store.unpriced import SIGHTINGS, Sighting, record_sightings
from store.writer import WriteBatch
from tests.collector_processor.test_pricing_book import call

NOV = datetime(2026, 11, 1, tzinfo=UTC)
LITELLM = json.dumps(
    {
        "acme-coder-1": {
            "litellm_provider": "acme",
            "input_cost_per_token": 1e-06,
            "output_cost_per_token": 3e-06,
        }
    }  # fmt: skip
)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def _store_litellm(engine: Engine, label: str = "litellm nov", actor: str = "carol") -> int:
    with engine.begin() as conn:
        return store_version(conn, label=label, fmt="litellm", body=LITELLM, effective_from=NOV,
                             models=1, actor=actor, audit={"label": label})  # fmt: skip


def test_bundled_catalog_is_the_first_version_once(engine: Engine) -> None:
    first = ensure_bundled_version(engine)
    assert ensure_bundled_version(engine) == first
    [info] = list_versions(engine)
    assert (info.id, info.label, info.format) == (first, "genai-prices 0.2.3", "genai-prices")
    assert (info.effective_from, info.models) == (BEGINNING, 2304)
    assert list_audit(engine, action_prefix="prices.") == []  # not a change anyone made


def test_a_version_row_from_before_snapshots_gets_its_snapshot(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(PriceVersion.__table__).values(  # type: ignore[attr-defined]
                version="genai-prices 0.2.3", source="bundled", created_at=NOV
            )
        )
    version_id = ensure_bundled_version(engine)
    [info] = list_versions(engine)
    assert (info.id, info.effective_from) == (version_id, BEGINNING)


def test_a_package_upgrade_becomes_a_new_audited_version(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_bundled_version(engine)
    newer = GenaiPricesCatalog(store_prices.bundled_catalog().providers, "genai-prices 9.9.9")
    monkeypatch.setattr(store_prices, "bundled_catalog", lambda: newer)
    before = datetime.now(UTC)
    ensure_bundled_version(engine, actor="otelspend serve")
    old, new = list_versions(engine)
    assert (old.label, new.label) == ("genai-prices 0.2.3", "genai-prices 9.9.9")
    assert before <= new.effective_from <= datetime.now(UTC)
    [entry] = list_audit(engine, action_prefix="prices.")
    assert (entry.action, entry.actor, entry.entity) == (
        "prices.bundled",
        "otelspend serve",
        f"*/price-version/{new.id}",
    )


def test_imported_version_is_loaded_and_cached(engine: Engine) -> None:
    ensure_bundled_version(engine)
    version_id = _store_litellm(engine)
    assert find_version(engine, label="litellm nov") is not None
    assert find_version(engine, sha256=store_prices.sha256_of(LITELLM)) is not None
    assert find_version(engine, label="nope", sha256="nope") is None
    cache: dict[int, object] = {}
    book = load_price_book(engine, cache)  # type: ignore[arg-type]
    assert [v.label for v in book.versions] == ["litellm nov", "genai-prices 0.2.3"]
    assert book.versions[0].effective_from == NOV
    again = load_price_book(engine, cache)  # type: ignore[arg-type]
    assert again.versions[0].catalog is book.versions[0].catalog  # parsed once
    [entry] = list_audit(engine, action_prefix="prices.")
    assert (entry.action, entry.actor, entry.entity) == (
        "prices.import",
        "carol",
        f"*/price-version/{version_id}",
    )
    # 1000x1 + 100x3 = 1300 micro-USD, from the LiteLLM version, from November on.
    pricer = Pricer(book)
    assert pricer.price(call("acme-coder-1", NOV, "acme", input_tokens=1000,
                             output_tokens=100)).cost_nanousd == 1_300_000  # fmt: skip
    assert pricer.price(call("acme-coder-1", NOV - timedelta(seconds=1), "acme",
                             input_tokens=1000)).cost_nanousd is None  # fmt: skip


def _acme(engine: Engine) -> None:
    create_key(engine, org="acme", workspace="platform", user="alice")
    create_key(engine, org="globex", workspace="platform", user="bob")
    create_key(engine, org="globex", workspace="research", user="bob")


def test_scopes_resolve_by_name(engine: Engine) -> None:
    _acme(engine)
    assert resolve_scope(engine, None, None) == Scope()
    assert resolve_scope(engine, "acme", None).describe() == "org acme"
    ws = resolve_scope(engine, None, "research")
    assert ws.describe() == "workspace globex/research" and ws.workspace_id is not None
    assert resolve_scope(engine, "acme", "platform").org == "acme"
    for org, workspace, message in [
        ("nope", None, "no org named 'nope'"),
        (None, "nope", "no workspace named 'nope'"),
        ("acme", "research", "no workspace named 'research' in org 'acme'"),
        (None, "platform", r"exists in several orgs \(acme, globex\): add --org"),
    ]:
        with pytest.raises(ScopeError, match=message):
            resolve_scope(engine, org, workspace)


def test_overrides_are_stored_listed_removed_and_audited(engine: Engine) -> None:
    _acme(engine)
    ensure_bundled_version(engine)
    epochs = [price_epoch(engine)]
    scope = resolve_scope(engine, "acme", None)
    spec = OverrideSpec("claude-opus-4-8", "", scope, NOV, None, Decimal("12.5"), note="contract 7")
    first = add_override(engine, spec, "carol")
    epochs.append(price_epoch(engine))
    custom = OverrideSpec(
        "acme-coder-1",
        "",
        Scope(),
        NOV,
        NOV + timedelta(days=30),
        None,
        {"input_usd_per_mtok": Decimal(1), "output_usd_per_mtok": Decimal(3)},
    )
    second = add_override(engine, custom, "carol")  # fmt: skip
    epochs.append(price_epoch(engine))
    infos = list_overrides(engine)
    assert [(i.id, i.scope, i.org, i.model, i.discount_pct) for i in infos] == [
        (first, "org", "acme", "claude-opus-4-8", "12.5"),
        (second, "global", "", "acme-coder-1", None),
    ]
    assert infos[1].rates["input_usd_per_mtok"] == "1" and infos[1].valid_until is not None
    book = load_price_book(engine)
    assert [(o.override_id, o.scope, o.discount_pct) for o in book.overrides] == [
        (first, "org", Decimal("12.5")),
        (second, "global", None),
    ]
    removed = remove_override(engine, first, "dave")
    assert removed is not None and removed.model == "claude-opus-4-8"
    assert remove_override(engine, first, "dave") is None
    epochs.append(price_epoch(engine))
    assert len(set(epochs)) == 4  # every change moves the epoch
    audit = [(a.action, a.actor, a.entity) for a in reversed(list_audit(engine))]
    assert audit == [
        ("prices.override", "carol", f"acme/price-override/{first}"),
        ("prices.override", "carol", f"*/price-override/{second}"),
        ("prices.override.remove", "dave", f"acme/price-override/{first}"),
    ]
    assert list_audit(engine)[0].before["note"] == "contract 7"


def test_first_sighting_is_recorded_once(engine: Engine) -> None:
    a = Sighting(1, "acme", "acme-coder-1", 10, "c1")
    b = Sighting(1, "acme", "acme-coder-2", 11, "c2")
    assert record_sightings(engine, [a]) == [a]
    assert record_sightings(engine, [a._replace(call_id="c9"), b]) == [b]
    assert record_sightings(engine, []) == []


def _unpriced_row(org_id: int, call_id: str, model: str) -> dict[str, object]:
    return {"call_id": call_id, "org_id": org_id, "model": model, "provider": "acme",
            "cost_nanousd": None, "start_ns": 5}  # fmt: skip


def test_unpriced_watch_calls_the_hook_once_per_model(engine: Engine) -> None:
    seen: list[tuple[int, str, str]] = []
    watch = UnpricedModelWatch(engine, lambda o, m, p: seen.append((o, m, p)))
    priced = {**_unpriced_row(1, "p", "claude-opus-4-8"), "cost_nanousd": 7}
    batch = WriteBatch(1, calls=[_unpriced_row(1, "c1", "acme-coder-1"), priced,
                                 _unpriced_row(1, "c2", "acme-coder-1"),
                                 _unpriced_row(1, "c3", " ")])  # fmt: skip
    watch.after_commit([batch])
    watch.after_commit([WriteBatch(1, calls=[_unpriced_row(1, "c4", "acme-coder-1")])])
    # A restarted server (a new watch) does not alert again: the store remembers.
    restarted = UnpricedModelWatch(engine, lambda o, m, p: seen.append((o, m, p)))
    restarted.after_commit(
        [
            WriteBatch(
                1,
                calls=[
                    _unpriced_row(1, "c5", "acme-coder-1"),
                    _unpriced_row(2, "c6", "acme-coder-1"),
                ],
            )
        ]
    )
    assert seen == [(1, "acme-coder-1", "acme"), (2, "acme-coder-1", "acme")]  # fmt: skip


def test_a_failing_hook_never_fails_the_commit(engine: Engine) -> None:
    def boom(org_id: int, model: str, provider: str) -> None:
        raise RuntimeError("webhook down")

    UnpricedModelWatch(engine, boom).after_commit(
        [WriteBatch(1, calls=[_unpriced_row(1, "c1", "acme-coder-1")])]
    )
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(SIGHTINGS)).scalar()
    assert count == 1  # recorded, so it will not fire again; and no exception escaped


def test_refresher_swaps_the_book_when_prices_change(engine: Engine) -> None:
    ensure_bundled_version(engine)
    pricer = Pricer(store_prices.bundled_catalog())
    refresher = PriceBookRefresher(engine, pricer, interval_s=0.05)
    refresher.start()
    try:
        assert refresher.refresh() is False  # nothing changed since start()
        assert pricer.book.overrides == ()
        spec = OverrideSpec("claude-opus-4-8", "", Scope(), NOV, None, Decimal(10))
        add_override(engine, spec, "carol")
        deadline = time.monotonic() + 5
        while not pricer.book.overrides and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [o.model for o in pricer.book.overrides] == ["claude-opus-4-8"]
    finally:
        refresher.stop()


def test_refresher_rejects_a_bad_interval(engine: Engine) -> None:
    with pytest.raises(ValueError, match="interval_s must be > 0"):
        PriceBookRefresher(engine, Pricer(store_prices.bundled_catalog()), interval_s=0)
