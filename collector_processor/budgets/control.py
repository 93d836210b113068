"""The budget/alerting side of a server, wired in one object for the composition root.

Order matters: build it before the writer (its `on_commit` is a writer hook), `attach` the
writer and pipeline once they exist, and `close` it after the writer has drained, so the
last commits are still evaluated and their alerts handed to the webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from collector_processor.budgets.alerts import DEFAULT_UI_URL
from collector_processor.budgets.evaluator import BudgetEvaluator
from collector_processor.budgets.metrics import build_registry, metrics_route
from collector_processor.budgets.runaway import RunawayPolicy
from collector_processor.budgets.webhooks import WebhookDispatcher, validate_webhook
from collector_processor.pipeline import summarize_counters
from store.writer import StoreWriter, WriteBatch


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    """Where alerts go and what links in them point to."""

    webhooks: Sequence[str] = ()
    ui_url: str = DEFAULT_UI_URL
    runaway: RunawayPolicy = RunawayPolicy()
    webhook_backoff_s: float = 0.5
    webhook_max_attempts: int = 6

    def __post_init__(self) -> None:
        for url in self.webhooks:
            validate_webhook(url)
        if not self.ui_url.startswith(("http://", "https://")):
            raise ValueError(f"ui-url must be an http(s) URL, got {self.ui_url!r}")


class SpendControl:
    """Budget evaluator + webhook dispatcher + /metrics of one server process."""

    def __init__(self, engine: Engine, cfg: AlertingConfig) -> None:
        self.dispatcher = (
            WebhookDispatcher(
                engine,
                cfg.webhooks,
                backoff_s=cfg.webhook_backoff_s,
                max_attempts=cfg.webhook_max_attempts,
            )
            if cfg.webhooks
            else None
        )
        sink = self.dispatcher.submit if self.dispatcher else None
        self.evaluator = BudgetEvaluator(engine, sink=sink, ui_url=cfg.ui_url, runaway=cfg.runaway)
        self._writer: StoreWriter | None = None
        self._pipeline: Any = None
        self.registry, self._commit_latency = build_registry(engine, self._process_stats)

    def attach(self, writer: StoreWriter, pipeline: Any) -> None:
        """Give the metrics the writer's and pipeline's counters."""
        self._writer, self._pipeline = writer, pipeline

    def on_commit(self, batches: list[WriteBatch]) -> None:
        """Writer after-commit hook: record the latency, hand the batches to the evaluator."""
        if self._writer is not None:
            self._commit_latency.observe(self._writer.stats.last_commit_ms / 1000)
        self.evaluator.on_commit(batches)

    def routes(self) -> list[web.RouteDef]:
        """Routes to add to the OTLP/HTTP app."""
        return [metrics_route(self.registry)]

    def health(self) -> dict[str, object]:
        """Alerting state for /health."""
        d = self.dispatcher
        return {
            "budget_evaluation_ms": round(self.evaluator.last_pass_ms, 2),
            "alerts_raised": dict(self.evaluator.raised),
            "webhooks": d.webhooks if d else [],
            "webhook_failures": d.stats.failed if d else 0,
        }

    def close(self) -> None:
        """Evaluate what the writer committed last, deliver what is due, stop the threads."""
        self.evaluator.close()
        if self.dispatcher is not None:
            self.dispatcher.close()

    def _process_stats(self) -> dict[str, Any]:
        w, d = self._writer, self.dispatcher
        ws = w.stats if w is not None else None
        return {
            "ingest": summarize_counters(self._pipeline.counters) if self._pipeline else {},
            "queue_depth": w.queue_depth if w is not None else 0,
            "last_commit_s": ws.last_commit_ms / 1000 if ws else 0.0,
            "batches_committed": ws.batches_committed if ws else 0,
            "commit_failures": ws.commit_failures if ws else 0,
            "calls_inserted": ws.calls_inserted if ws else 0,
            "calls_duplicate": ws.calls_duplicate if ws else 0,
            "calls_matched": ws.calls_matched if ws else 0,
            "alerts_raised": dict(self.evaluator.raised),
            "deliveries": {
                "delivered": d.stats.delivered if d else 0,
                "failed": d.stats.failed if d else 0,
                "retried": d.stats.retried if d else 0,
            },
            "evaluation_s": self.evaluator.last_pass_ms / 1000,
        }
