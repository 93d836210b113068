"""Prometheus `/metrics` on the receiver's HTTP port.

Store-wide series (spend, tokens, budget utilization) are read from the database at scrape
time, so every replica reports the same values: scrape one, or aggregate with max().
Process series (ingest counters, queue depth, commit latency, alerts raised, deliveries) are
this process's own: sum them across replicas.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, select

from collector_processor.budgets.evaluate import BudgetState, status_states
from collector_processor.budgets.windows import minute_of
from store.spend_totals import TOTAL_DIMENSIONS, SpendTotals, dimension_names
from store.subjects import ORGS, OrgInfo, names_by_scope
from store.tables import ROLLUP_MEASURES

_NANO = Decimal(1_000_000_000)
_SPEND_LABELS = ["org", "workspace", "user", "agent", "model"]
_BUDGET_LABELS = ["budget_id", "org", "scope", "subject", "agent", "model", "window", "mode"]
_TOKEN_TYPES = ("input", "cache_read", "cache_write", "output", "reasoning")
_COMMIT_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

ProcessStats = Callable[[], Mapping[str, Any]]


def _usd(nanousd: int) -> float:
    return float(Decimal(nanousd) / _NANO)


class StoreCollector(Collector):
    """Spend, tokens and budget gauges, read from the store at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._totals = SpendTotals()
        self._lock = threading.Lock()  # overlapping scrapes share the running totals

    def collect(self) -> Iterator[Metric]:
        """Yield the store-wide metric families."""
        now = datetime.now(UTC)
        with self._lock, self._engine.connect() as conn:
            totals = self._totals.snapshot(conn, minute_of(now))
            names = dimension_names(conn)
            orgs = [OrgInfo(r.id, r.name, r.timezone or "UTC") for r in conn.execute(select(ORGS))]
            states = [(o, s) for o in orgs for s in status_states(conn, o, now)]
            subjects = names_by_scope(conn, ((s.budget.scope, s.subject_id) for _, s in states))
        yield from _spend_families(totals, names)
        yield from _budget_families(states, subjects)


def _spend_families(totals: Mapping[tuple[Any, ...], list[int]], names: Any) -> Iterator[Metric]:
    spend = CounterMetricFamily(
        "otelspend_spend_usd", "Billed spend (USD) since the store began.", labels=_SPEND_LABELS
    )
    calls = CounterMetricFamily("otelspend_calls", "Model calls stored.", labels=_SPEND_LABELS)
    unpriced = CounterMetricFamily(
        "otelspend_unpriced_calls", "Calls without a price (kept, $0).", labels=_SPEND_LABELS
    )
    tokens = CounterMetricFamily(
        "otelspend_tokens", "Tokens by class.", labels=[*_SPEND_LABELS, "type"]
    )
    idx = {m: i for i, m in enumerate(ROLLUP_MEASURES)}
    for dims, m in sorted(totals.items(), key=lambda kv: tuple(map(str, kv[0]))):
        d = dict(zip(TOTAL_DIMENSIONS, dims, strict=True))
        labels = [
            names["org"].get(d["org_id"], str(d["org_id"])),
            names["workspace"].get(d["workspace_id"], str(d["workspace_id"])),
            names["user"].get(d["user_id"], str(d["user_id"])),
            d["agent"],
            d["model"],
        ]
        spend.add_metric(labels, _usd(m[idx["cost_nanousd"]]))
        calls.add_metric(labels, m[idx["calls"]])
        unpriced.add_metric(labels, m[idx["unpriced_calls"]])
        for t in _TOKEN_TYPES:
            tokens.add_metric([*labels, t], m[idx[f"{t}_tokens"]])
    yield from (spend, calls, unpriced, tokens)


def _budget_families(
    states: list[tuple[OrgInfo, BudgetState]], subjects: Mapping[tuple[str, int], str]
) -> Iterator[Metric]:
    spent = GaugeMetricFamily(
        "otelspend_budget_spent_usd", "Spend in the budget's current window.", labels=_BUDGET_LABELS
    )
    limit = GaugeMetricFamily(
        "otelspend_budget_limit_usd", "Effective limit (with overrides).", labels=_BUDGET_LABELS
    )
    ratio = GaugeMetricFamily(
        "otelspend_budget_utilization_ratio",
        "spent / limit in the current window.",
        labels=_BUDGET_LABELS,
    )
    for org, s in states:
        b = s.budget
        subject = subjects.get((b.scope, s.subject_id), str(s.subject_id))
        labels = [str(b.id), org.name, b.scope, subject, b.agent, b.model, b.window, b.mode]
        spent.add_metric(labels, _usd(s.spent_nanousd))
        limit.add_metric(labels, _usd(s.limit_nanousd))
        ratio.add_metric(labels, s.utilization)
    yield from (spent, limit, ratio)


class ProcessCollector(Collector):
    """Ingest counters, writer and alerting state of this process."""

    def __init__(self, stats: ProcessStats) -> None:
        self._stats = stats

    def collect(self) -> Iterator[Metric]:
        """Yield this process's metric families."""
        st = self._stats()
        yield from _ingest_families(st)
        yield from _alerting_families(st)


def _ingest_families(st: Mapping[str, Any]) -> Iterator[Metric]:
    for what in ("received", "accepted", "rejected"):
        fam = CounterMetricFamily(
            f"otelspend_ingest_{what}", f"Records {what} per signal.", labels=["signal"]
        )
        for signal, counters in st["ingest"].items():
            fam.add_metric([signal], counters[what])
        yield fam
    yield GaugeMetricFamily(
        "otelspend_write_queue_depth", "Batches waiting for the writer.", value=st["queue_depth"]
    )
    yield GaugeMetricFamily(
        "otelspend_last_commit_latency_seconds",
        "Duration of the last commit.",
        value=st["last_commit_s"],
    )
    for name, help_text in (
        ("batches_committed", "Export requests committed."),
        ("commit_failures", "Commits that failed."),
        ("calls_inserted", "New calls stored."),
        ("calls_duplicate", "Calls already stored (client retries)."),
        (
            "calls_matched",
            "Calls stored as duplicates of a call from another channel (billed once).",
        ),
    ):
        yield CounterMetricFamily(f"otelspend_{name}", help_text, value=st[name])


def _alerting_families(st: Mapping[str, Any]) -> Iterator[Metric]:
    raised = CounterMetricFamily(
        "otelspend_alerts_raised", "Alerts raised by this process.", labels=["kind"]
    )
    for kind, n in sorted(st["alerts_raised"].items()):
        raised.add_metric([kind], n)
    yield raised
    deliveries = CounterMetricFamily(
        "otelspend_alert_deliveries", "Webhook delivery attempts by outcome.", labels=["outcome"]
    )
    for outcome, n in st["deliveries"].items():
        deliveries.add_metric([outcome], n)
    yield deliveries
    yield GaugeMetricFamily(
        "otelspend_budget_evaluation_seconds",
        "Duration of the last budget evaluation pass.",
        value=st["evaluation_s"],
    )


def build_registry(engine: Engine, stats: ProcessStats) -> tuple[CollectorRegistry, Histogram]:
    """A registry of this server's collectors and its commit-latency histogram."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(engine))
    registry.register(ProcessCollector(stats))
    commit = Histogram(
        "otelspend_commit_latency_seconds",
        "Store commit latency.",
        buckets=_COMMIT_BUCKETS_S,
        registry=registry,
    )
    return registry, commit


def metrics_route(registry: CollectorRegistry) -> web.RouteDef:
    """GET /metrics; collection reads the store, so it runs off the event loop."""

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await asyncio.to_thread(generate_latest, registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return web.get("/metrics", handle)
