"""Time `prices reprice` on a seeded store, and the per-call cost of the pricer.

    .venv/bin/python bench/reprice.py --calls 100000 [--db URL]

Seeds N calls over four models (one unpriced) spread across ~17 hours, adds a 10% discount
and a custom price, then times a dry run, the real run (every call changes) and a second
run (nothing changes).  Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from collector_processor.pricing.engine import Pricer
from semconv.records import GRANULARITY_CALL, LlmCall
from store.engine import make_engine
from store.identity import create_key
from store.migrate import upgrade
from store.price_overrides import OverrideSpec, Scope, add_override
from store.prices import ensure_bundled_version, load_price_book
from store.reprice import reprice
from store.writer import StoreWriter, WriteBatch

T0 = 1_795_176_000_000_000_000  # 2026-11-20T12:00:00Z
MODELS = [("anthropic", "claude-opus-4-8"), ("anthropic", "claude-sonnet-4-5-20250929"),
          ("openai", "gpt-5.1-codex"), ("acme", "acme-coder-1")]  # fmt: skip
_BATCH = 1000


def _row(pricer: Pricer, i: int, ids: tuple[int, int, int]) -> dict[str, Any]:
    provider, model = MODELS[i % len(MODELS)]
    start = T0 + i * 600_000_000  # 100 calls per minute
    c = LlmCall(f"bench-{i}", GRANULARITY_CALL, "span", "bench", provider, model, "", "chat",
                start, start, input_tokens=1000 + i % 97, cache_read_tokens=5000,
                output_tokens=300)  # fmt: skip
    p = pricer.price(c, ids[0], ids[1])
    return {
        "call_id": c.call_id, "org_id": ids[0], "workspace_id": ids[1], "user_id": None,
        "user_name": f"user-{i % 20}", "key_id": ids[2], "agent": "bench",
        "provider": p.provider_id or provider, "request_model": model, "response_model": "",
        "model": p.priced_model or model, "operation": "chat", "granularity": "call",
        "source": "span", "dialect": "bench", "start_ns": start, "end_ns": start,
        "input_tokens": c.input_tokens, "cache_read_tokens": 5000, "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0, "output_tokens": 300, "reasoning_tokens": 0,
        "cost_nanousd": p.cost_nanousd, "client_cost_nanousd": None,
        "price_version": p.price_version, "unpriced_reason": p.reason, "trace_id": "",
        "span_id": "", "session_id": "", "service_name": "bench", "created_ns": 0,
    }  # fmt: skip


def seed(db: str, calls: int) -> None:
    """Store `calls` priced calls through the real writer."""
    engine = make_engine(db)
    upgrade(engine)
    ensure_bundled_version(engine)
    _, key = create_key(engine, org="default", workspace="default", user="bench")
    pricer = Pricer(load_price_book(engine))
    ids = (1, 1, key.id)
    writer = StoreWriter(engine)
    for start in range(0, calls, _BATCH):
        rows = [_row(pricer, i, ids) for i in range(start, min(calls, start + _BATCH))]
        writer.submit(WriteBatch(1, calls=rows)).result(120)
    writer.close()
    engine.dispose()


def main() -> None:
    """Seed, change prices, time the reprices."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    db = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    started = time.perf_counter()
    seed(db, args.calls)
    print(f"seeded {args.calls:,} calls in {time.perf_counter() - started:.1f} s")
    engine = make_engine(db)
    nov = datetime(2026, 11, 1, tzinfo=UTC)
    add_override(engine, OverrideSpec("claude-opus-4-8", "", Scope(), nov, None, Decimal(10)), "b")
    rates = {"input_usd_per_mtok": Decimal(1), "output_usd_per_mtok": Decimal(3)}
    add_override(engine, OverrideSpec("acme-coder-1", "", Scope(), nov, None, None, rates), "b")
    pricer = Pricer(load_price_book(engine))
    seconds: list[float] = []
    for label, dry in (("dry run", True), ("reprice", False), ("no-op reprice", False)):
        t = time.perf_counter()
        report = reprice(engine, pricer, since=nov, dry_run=dry, actor="bench")
        dt = time.perf_counter() - t
        print(f"{label:<14} {report.calls:,} calls, {report.cost_changed:,} changed: "
              f"{dt:.2f} s ({report.calls / dt:,.0f} calls/s)")  # fmt: skip
        seconds.append(dt)
    engine.dispose()
    print(
        f"BENCH reprice calls={args.calls} dry_run_s={seconds[0]:.2f} reprice_s={seconds[1]:.2f} "
        f"noop_reprice_s={seconds[2]:.2f}"
    )


if __name__ == "__main__":
    main()
