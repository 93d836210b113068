"""Prices end to end on a running server: import -> ingest -> override -> reprice.

Runs on SQLite and PostgreSQL.  Every dollar figure is worked by hand from the rates below
(USD per million tokens: tokens x rate = micro-USD).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select

from otelspend.cli import main
from store.engine import make_engine
from store.tables import AuditEntry, LlmCallRow, SpendMinute
from store.tables_prices import UnpricedModelSighting
from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import post, spend_json

T0 = 1_795_176_000_000_000_000  # 2026-11-20T12:00:00Z
MINUTE = 60_000_000_000

# A LiteLLM price file that makes Opus 4.8 cheaper than the bundled catalog ($5 / $25):
# $4 input, $0.40 cache read, $5 cache write, $20 output.
LITELLM = {
    "sample_spec": {"input_cost_per_token": 0},
    "claude-opus-4-8": {
        "litellm_provider": "anthropic",
        "mode": "chat",
        "input_cost_per_token": 4e-06,
        "cache_read_input_token_cost": 4e-07,
        "cache_creation_input_token_cost": 5e-06,
        "output_cost_per_token": 2e-05,
    },
}


def _attr(key: str, value: object) -> dict[str, Any]:
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _span(n: int, model: str, provider: str, start_ns: int, **attrs: object) -> dict[str, Any]:
    usage = {f"gen_ai.usage.{k}": v for k, v in attrs.items() if k != "cost"}
    if "cost" in attrs:
        usage["gen_ai.usage.cost"] = attrs["cost"]  # OpenLIT: the client's own cost
    values = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.provider.name": provider,
        **usage,
    }
    return {
        "traceId": f"{n:032x}",
        "spanId": f"{n:016x}",
        "name": f"chat {model}",
        "kind": 3,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(start_ns + 1_000_000_000),
        "attributes": [_attr(k, v) for k, v in values.items()],
    }


def _ingest(server: LiveServer, *spans: dict[str, Any]) -> None:
    resource = {"attributes": [_attr("service.name", "agent-x")]}
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": list(spans)}]}]}
    status, text = post(
        server.http_endpoint,
        "traces",
        json.dumps(body).encode(),
        key=server.key,
        content_type="application/json",
    )
    assert status == 200, text


def _cli(db: str, *args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--db", db])
    assert result.exit_code == 0, result.output
    return result.stdout


def _by_model(db: str) -> dict[str, tuple[int, str, int]]:
    return {
        r["model"]: (r["calls"], r["cost_usd"], r["unpriced_calls"])
        for r in spend_json(db, "model")
    }


def _store_totals(db: str) -> tuple[int, int, int, int]:
    """(rollup cost, billed calls' cost, rollup unpriced calls, billed unpriced calls)."""
    engine = make_engine(db)
    c = LlmCallRow.__table__.c  # type: ignore[attr-defined]
    r = SpendMinute.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rollup_cost, rollup_unpriced = conn.execute(
            select(func.sum(r.cost_nanousd), func.sum(r.unpriced_calls))
        ).one()
        calls_cost = conn.execute(
            select(func.sum(c.cost_nanousd)).where(c.billed.is_(True))
        ).scalar()
        calls_unpriced = conn.execute(
            select(func.count()).where(c.billed.is_(True), c.cost_nanousd.is_(None))
        ).scalar()
    engine.dispose()
    return int(rollup_cost), int(calls_cost or 0), int(rollup_unpriced), int(calls_unpriced)


def _price_audit(db: str) -> list[tuple[str, str]]:
    engine = make_engine(db)
    a = AuditEntry.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.action, a.actor).where(a.action.like("prices.%")).order_by(a.id)
        ).all()
    engine.dispose()
    return [(r[0], r[1]) for r in rows]


def _sightings(db: str) -> list[str]:
    engine = make_engine(db)
    s = UnpricedModelSighting.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        models = list(conn.execute(select(s.model)).scalars())
    engine.dispose()
    return models


def test_import_ingest_override_reprice(live_server: LiveServer, tmp_path: Path) -> None:
    db = live_server.db
    litellm = tmp_path / "model_prices_and_context_window.json"
    litellm.write_text(json.dumps(LITELLM))
    out = _cli(db, "prices", "import", str(litellm), "--effective", "2026-11-01", "--as", "carol")
    # The diff names the change against the bundled catalog, with its effective date.
    assert "anthropic/claude-opus-4-8" in out and "from 2026-11-01" in out
    assert "input 5 -> 4" in out and "output 25 -> 20" in out
    assert live_server.running.prices is not None
    assert live_server.running.prices.refresh()  # what the server's poller does within 5 s

    _ingest(
        live_server,
        # 1000x4 + 100x20 = 4000 + 2000 = 6000 micro-USD; the client says $0.0065.
        _span(1, "claude-opus-4-8", "anthropic", T0, input_tokens=1000, output_tokens=100,
              cost=0.0065),
        # GenAI semconv input includes cached tokens: 4000 = 2000 uncached + 2000 cache reads.
        # 2000x4 + 2000x0.4 + 200x20 = 8000 + 800 + 4000 = 12800 micro-USD
        _span(2, "claude-opus-4-8", "anthropic", T0 + MINUTE, input_tokens=4000,
              **{"cache_read.input_tokens": 2000}, output_tokens=200),
        # No price anywhere: stored unpriced, tokens kept.
        _span(3, "acme-coder-1", "acme", T0 + MINUTE, input_tokens=10_000, output_tokens=1000),
    )  # fmt: skip
    assert _by_model(db) == {
        "claude-opus-4-8": (2, "0.018800", 0),
        "acme-coder-1": (1, "0.000000", 1),
    }
    assert _store_totals(db) == (18_800_000, 18_800_000, 1, 1)
    assert _sightings(db) == ["acme-coder-1"]  # the first-sighting alert hook fired for it

    # acme's negotiated custom price; 25% off Opus in the platform workspace from 12:00:30.
    _cli(db, "prices", "override", "--model", "acme-coder-1", "--org", "acme",
         "--input", "1", "--output", "3", "--from", "2026-11-01", "--as", "carol")  # fmt: skip
    _cli(db, "prices", "override", "--model", "claude-opus-4-8", "--workspace", "platform",
         "--discount", "25", "--from", "2026-11-20T12:00:30", "--as", "carol")  # fmt: skip

    dry = json.loads(_cli(db, "prices", "reprice", "--since", "2026-11-01", "--dry-run", "--json"))
    assert (dry["calls"], dry["cost_changed"]) == (3, 2)
    assert _by_model(db)["acme-coder-1"] == (1, "0.000000", 1)  # a dry run changes nothing

    report = json.loads(
        _cli(db, "prices", "reprice", "--since", "2026-11-01", "--as", "carol", "--json")
    )
    # Opus before 12:00:30 keeps 6000; after: 12800 x 0.75 = 9600.
    # acme-coder-1: 10000x1 + 1000x3 = 10000 + 3000 = 13000 micro-USD.
    assert report["by_model"]["claude-opus-4-8"]["before_nanousd"] == 18_800_000
    assert report["by_model"]["claude-opus-4-8"]["after_nanousd"] == 15_600_000
    assert report["by_model"]["acme-coder-1"]["unpriced_before"] == 1
    assert report["by_model"]["acme-coder-1"]["after_nanousd"] == 13_000_000
    assert _by_model(db) == {
        "claude-opus-4-8": (2, "0.015600", 0),
        "acme-coder-1": (1, "0.013000", 0),
    }
    assert _store_totals(db) == (28_600_000, 28_600_000, 0, 0)
    assert _price_audit(db) == [
        ("prices.import", "carol"),
        ("prices.override", "carol"),
        ("prices.override", "carol"),
        ("prices.reprice", "carol"),
    ]

    # New calls are priced with the overrides as soon as the server reloads its book.
    assert live_server.running.prices.refresh()
    _ingest(live_server, _span(4, "acme-coder-1", "acme", T0 + 2 * MINUTE, input_tokens=10_000,
                               output_tokens=1000))  # fmt: skip
    assert _by_model(db)["acme-coder-1"] == (2, "0.026000", 0)
    assert _store_totals(db) == (41_600_000, 41_600_000, 0, 0)

    # Accuracy: the client said $0.0065 where we bill $0.006: -7.69%, flagged.
    [acc] = json.loads(_cli(db, "prices", "accuracy", "--since", "2026-11-01", "--json"))
    assert (acc["model"], acc["client_cost_nanousd"], acc["our_cost_nanousd"]) == (
        "claude-opus-4-8",
        6_500_000,
        6_000_000,
    )
    assert (acc["delta_pct"], acc["flagged"]) == ("-7.6923", True)


def test_second_reprice_changes_nothing_and_is_still_audited(
    live_sqlite_server: LiveServer,
) -> None:
    db = live_sqlite_server.db
    _ingest(live_sqlite_server, _span(1, "claude-opus-4-8", "anthropic", T0, input_tokens=1000))
    # Bundled Opus 4.8: 1000x5 = 5000 micro-USD.
    assert _by_model(db) == {"claude-opus-4-8": (1, "0.005000", 0)}
    for _ in range(2):
        report = json.loads(_cli(db, "prices", "reprice", "--since", "2026-11-01", "--json"))
        assert (report["calls"], report["changed"]) == (1, 0)
    assert _by_model(db) == {"claude-opus-4-8": (1, "0.005000", 0)}
    assert [a for a, _ in _price_audit(db)] == ["prices.reprice", "prices.reprice"]
