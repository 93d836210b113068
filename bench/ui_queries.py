"""UI query benchmark: the store queries behind each page, on 1,000,000 calls / 5,000,000 spans.

Builds (or reuses, --store PATH) a SQLite store with bench/ui_store.py — bulk inserts, not
ingest — adds budgets like a real org's (and, to a store built before the generator made
them, the client-reported costs of Claude Code's calls), then times every page's queries
exactly as the pages call them: the median of --runs runs after one warm-up, per page.
Opening a store migrates it first, as `serve` does.

    python bench/ui_queries.py [--store /tmp/otelspend-ui-bench.db] [--calls 1000000] [--runs 5]

The last line is machine-readable: `BENCH ui_queries page_ms=... max_page_ms=...`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ui_store import CLIENT_COST_SQL, build  # noqa: E402
from collector_processor.budgets.evaluate import status_states  # noqa: E402
from collector_processor.budgets.windows import window_at  # noqa: E402
from otelspend.budget_views import names_for  # noqa: E402
from store.alerts import list_alerts  # noqa: E402
from store.audit import list_audit  # noqa: E402
from store.budget_requests import list_requests  # noqa: E402
from store.budgets import BudgetSpec, load_budgets, org_limits, set_budget  # noqa: E402
from store.engine import make_engine  # noqa: E402
from store.identity import list_keys  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.price_reports import cost_accuracy, unpriced_model_uses  # noqa: E402
from store.subjects import org_by_id  # noqa: E402
from store.ui_queries import SpendScope, breakdown, dimensions, spend_series, window_totals  # noqa: E402
from store.ui_trace_detail import trace_detail  # noqa: E402
from store.ui_traces import (  # noqa: E402
    TraceFilter,
    costliest_sessions,
    costliest_traces,
    outcome_labels,
    untraced_spend,
)

NANO = 1_000_000_000
NS_PER_MINUTE = 60 * NANO


def _budgets(engine: Any, org_id: int) -> None:
    """An org-wide monthly budget, default daily and monthly user budgets, an exception."""
    with engine.begin() as conn:
        for spec in (
            BudgetSpec(org_id, "org", org_id, "month", 60_000 * NANO),
            BudgetSpec(org_id, "user", 0, "day", 25 * NANO),
            BudgetSpec(org_id, "user", 0, "month", 400 * NANO),
            BudgetSpec(org_id, "workspace", 1, "month", 5_000 * NANO, agent="claude-code"),
        ):
            set_budget(conn, spec, "bench", "bench")


def _open(path: Path, calls: int) -> tuple[Any, int]:
    engine = make_engine(f"sqlite:///{path}")
    if path.exists():
        upgrade(engine)
        with engine.begin() as conn:
            if not load_budgets(conn, 1):
                _budgets(engine, 1)
            if conn.exec_driver_sql(CLIENT_COST_SQL).rowcount:  # a store from before that
                print("added client-reported costs to Claude Code's calls", file=sys.stderr)
        return engine, 1
    upgrade(engine)
    print(f"building {path} ({calls:,} calls, {5 * calls:,} spans) ...", file=sys.stderr)
    started = time.monotonic()
    org = build(engine, calls=calls, users=400, days=30, seed=7)
    _budgets(engine, org)
    print(f"built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return engine, org


def pages(engine: Any, org_id: int) -> dict[str, Callable[[], Any]]:
    """What each page runs on open, with its default filters (and the heavy variants)."""
    now = datetime.now(UTC)
    org = _org(engine, org_id)
    end_min = int(now.timestamp()) // 60 + 1
    scope7 = SpendScope(org_id, end_min - 7 * 1440, end_min)
    scope30 = scope7.during(end_min - 30 * 1440, end_min)
    month = window_at("month", now, org.timezone)
    end_ns = int(now.timestamp()) * NANO
    day_f = TraceFilter(org_id, end_ns - 86400 * NANO, end_ns)
    month_f = TraceFilter(
        org_id, month.start_minute * NS_PER_MINUTE, month.end_minute * NS_PER_MINUTE
    )
    user_f = TraceFilter(org_id, end_ns - 30 * 86400 * NANO, end_ns, user_ids=(7,))
    top = costliest_traces(engine, day_f, limit=1)[0].id

    def overview(scope: SpendScope, resolution: str) -> None:
        dimensions(engine, org_id, scope.start_minute - 30 * 1440, scope.end_minute)
        windows = {k: _window(k, now, org.timezone) for k in ("day", "week", "month")}
        window_totals(engine, scope, windows)
        with engine.begin() as conn:
            org_limits(conn, org_id, now)
        spend_series(engine, scope, resolution, org.timezone)
        breakdown(engine, scope, 2 * scope.start_minute - scope.end_minute)

    def budgets() -> None:
        with engine.begin() as conn:
            states = status_states(conn, org, now)
            names_for(conn, load_budgets(conn, org_id), states)
        list_alerts(engine, org_id=org_id, limit=50)

    def traces(f: TraceFilter) -> None:
        dimensions(engine, org_id, f.start_ns // NS_PER_MINUTE - 30 * 1440, end_min)
        outcome_labels(engine, org_id)
        costliest_traces(engine, f, limit=100)
        costliest_sessions(engine, f, limit=20)
        untraced_spend(engine, f)

    def why_month() -> None:
        traces(month_f)
        window_totals(engine, scope30, {"w": (month.start_minute, month.end_minute)})

    def requests() -> None:
        with engine.begin() as conn:
            status_states(conn, org, now)
            list_requests(conn, org_id)
        list_audit(engine, entity_prefix="bench/", limit=200)

    def prices() -> None:
        unpriced_model_uses(engine)
        cost_accuracy(engine, since_ns=end_ns - 30 * 86400 * NANO, org_id=org_id)

    return {
        "overview_7d": lambda: overview(scope7, "day"),
        "overview_30d": lambda: overview(scope30, "day"),
        "budgets": budgets,
        "traces_24h": lambda: traces(day_f),
        "traces_user_30d": lambda: traces(user_f),
        "why_org_month": why_month,
        "trace": lambda: trace_detail(engine, org_id, top),
        "requests_audit": requests,
        "prices": prices,
        "keys": lambda: list_keys(engine, include_revoked=True),
    }


def _org(engine: Any, org_id: int) -> Any:
    with engine.begin() as conn:
        return org_by_id(conn, org_id)


def _window(kind: str, now: datetime, zone: str) -> tuple[int, int]:
    w = window_at(kind, now, zone)
    return w.start_minute, w.end_minute


def main() -> None:
    """Time each page's queries; print a table and the BENCH line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=Path("/tmp/otelspend-ui-bench.db"))
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    engine, org_id = _open(args.store, args.calls)
    with engine.connect() as conn:
        calls = conn.exec_driver_sql("SELECT count(*) FROM llm_calls").scalar()
        spans = conn.exec_driver_sql("SELECT count(*) FROM spans").scalar()
    print(f"store: {calls:,} calls, {spans:,} spans ({args.store})")
    results = {}
    for name, run in pages(engine, org_id).items():
        run()  # warm-up: first touch of the pages in the OS cache
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        results[name] = statistics.median(times)
        print(f"  {name:<18} {results[name]:8.1f} ms  (median of {args.runs})")
    fields = " ".join(f"{k}={v:.0f}" for k, v in results.items())
    worst = max(results.values())
    print(f"BENCH ui_queries calls={calls} spans={spans} {fields} max_page_ms={worst:.0f}")


if __name__ == "__main__":
    main()
