"""Budget/alert benchmarks: commit -> webhook latency, and the evaluator's cost to ingest.

    .venv/bin/python bench/budgets.py                      # SQLite in a temp dir
    .venv/bin/python bench/budgets.py --db postgresql+psycopg://postgres@127.0.0.1:54329/bench

1. latency: a live server with a webhook; per sample a fresh hourly budget of $0.10 (its own
   agent filter) and one $0.06 call over OTLP/HTTP; time from the export's ack (= commit) to
   the 50 % threshold alert arriving at the webhook.
2. load: 20 000 calls (400 batches x 50, 500 users, a default user budget) through the
   writer alone, with and without the evaluator's after-commit hook.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from collector_processor.budgets.control import AlertingConfig
from collector_processor.budgets.evaluator import BudgetEvaluator
from otelspend.server import ServeConfig, start_server
from store.budgets import BudgetSpec, set_budget
from store.engine import make_engine
from store.identity import create_key
from store.migrate import upgrade
from store.subjects import find_org, resolve_subject
from store.writer import QueueFull, StoreWriter, WriteBatch

# The webhook receiver and the OTLP exporter helper live with the tests: reuse them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.collector_processor.budgets.hook import webhook_receiver  # noqa: E402
from tests.otelspend.test_budgets_e2e import SONNET_CALL, export  # noqa: E402


def latency(db: str, samples: int) -> list[float]:
    """Milliseconds from ack to webhook delivery of a threshold alert."""
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    out = []
    with webhook_receiver() as hook:
        cfg = ServeConfig(
            db=db,
            otlp_grpc_port=0,
            otlp_http_port=0,
            decode_workers=0,
            alerting=AlertingConfig(webhooks=(hook.url,)),
        )
        running = asyncio.run_coroutine_threadsafe(start_server(cfg), loop).result(60)
        key, info = create_key(running.engine, org="bench", workspace="w", user="alice")
        server: Any = type(
            "S", (), {"http_endpoint": f"http://127.0.0.1:{running.http_port}", "key": key}
        )
        with running.engine.begin() as conn:
            org = find_org(conn, "bench")
            alice = resolve_subject(conn, org.id, "user", "alice")
            for i in range(samples):
                spec = BudgetSpec(org.id, "user", alice, "hour", 100_000_000, agent=f"a{i}")
                set_budget(conn, spec, "bench", "bench")
        time.sleep(0.6)  # the evaluator's budget cache
        for i in range(samples):
            SONNET_CALL["gen_ai.agent.name"] = f"a{i}"
            seen = len(hook.bodies)
            export(server, 1)
            acked = time.monotonic()
            while not any(f"agent a{i})" in b["text"] for b in hook.bodies[seen:]):
                time.sleep(0.0005)
            out.append((time.monotonic() - acked) * 1000)
        asyncio.run_coroutine_threadsafe(running.stop(), loop).result(60)
    loop.call_soon_threadsafe(loop.stop)
    return out


def _calls(org_id: int, ws: int, key_id: int, ids: Any, now_ns: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(50):
        n = next(ids)
        rows.append({
            "call_id": f"c{n}", "org_id": org_id, "workspace_id": ws, "user_id": None,
            "user_name": f"user{n % 500}", "key_id": key_id, "agent": "claude-code",
            "provider": "anthropic", "request_model": "m", "response_model": "", "model": "m",
            "operation": "chat", "granularity": "call", "source": "span", "dialect": "genai",
            "start_ns": now_ns, "end_ns": now_ns, "input_tokens": 1, "cache_read_tokens": 0,
            "cache_write_tokens": 0, "cache_write_1h_tokens": 0, "output_tokens": 1,
            "reasoning_tokens": 0, "cost_nanousd": 1000, "client_cost_nanousd": None,
            "price_version": "t", "unpriced_reason": "", "trace_id": "t", "span_id": "",
            "session_id": f"s{n % 500}", "service_name": "x", "created_ns": 0,
        })  # fmt: skip
    return rows


def load(engine: Engine, hook: bool, org_name: str) -> tuple[float, float, int]:
    """(calls/s committed, ms from the last commit to the evaluator idle, passes)."""
    _, info = create_key(engine, org=org_name, workspace="w", user="u0")
    with engine.begin() as conn:
        org = find_org(conn, org_name)
        ws = resolve_subject(conn, org.id, "workspace", "w")
        set_budget(conn, BudgetSpec(org.id, "user", 0, "day", 10**12), "bench", org.name)
    ev = BudgetEvaluator(engine) if hook else None
    writer = StoreWriter(engine, after_commit=[ev.on_commit] if ev else [])
    ids, now_ns = itertools.count(), time.time_ns()
    started = time.perf_counter()
    futures = []
    for _ in range(400):
        batch = WriteBatch(org.id, calls=_calls(org.id, ws, info.id, ids, now_ns))
        while True:
            try:
                futures.append(writer.submit(batch))
                break
            except QueueFull:  # the bound is the point of the queue: wait for room
                time.sleep(0.001)
    for f in futures:
        f.result()
    committed = time.perf_counter()
    if ev is not None:
        ev.flush(60)
    idle = time.perf_counter()
    writer.close()
    if ev is not None:
        ev.close()
    return 20_000 / (committed - started), (idle - committed) * 1000, ev.passes if ev else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=None)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        lat = latency(db, args.samples)
        print(
            f"ack -> webhook: median {statistics.median(lat):.1f} ms, max {max(lat):.1f} ms "
            f"({len(lat)} samples, {db.split(':')[0]})"
        )
        engine = make_engine(db)
        upgrade(engine)
        results: dict[bool, list[tuple[float, float, int]]] = {False: [], True: []}
        for run in range(args.runs * 2):  # alternate, so machine noise hits both alike
            hook = bool(run % 2)
            results[hook].append(load(engine, hook, f"load{run}"))
        rates: dict[bool, float] = {}
        for hook, runs in results.items():
            rate = rates[hook] = statistics.median(r[0] for r in runs)
            lag = statistics.median(r[1] for r in runs)
            print(
                f"writer {'with' if hook else 'without'} the evaluator hook: median "
                f"{rate:,.0f} calls/s over {len(runs)} runs; evaluator idle {lag:.0f} ms "
                f"after the last commit ({runs[-1][2]} passes)"
            )
        engine.dispose()
        print(
            f"BENCH budgets ack_to_webhook_ms_median={statistics.median(lat):.1f} "
            f"writer_calls_per_s_without_hook={rates[False]:.0f} "
            f"writer_calls_per_s_with_hook={rates[True]:.0f}"
        )


if __name__ == "__main__":
    main()
