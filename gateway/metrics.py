"""Prometheus metrics of the gateway, on its own registry (served at GET /metrics).

The gateway's proxy processes (gateway.front) share their metrics through
prometheus_client's multiprocess mode: each process writes its values to memory-mapped
files in the gateway's metrics folder, and whichever process answers a scrape renders the
sum over all of them (including processes that have exited and been restarted, so counters
never go back).
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

_LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                      2.5, 5, 10, 30, 60, 120)  # fmt: skip


class GatewayMetrics:
    """Requests, blocks by budget, upstream latency, added overhead, cache results."""

    def __init__(self, shared_dir: str | None = None) -> None:
        """`shared_dir`: the folder the gateway's processes share their values in (call once
        per process, before any other prometheus metric is made in it)."""
        self._shared_dir = shared_dir
        if shared_dir is not None:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared_dir
            values.ValueClass = values.MultiProcessValue()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "otelspend_gateway_requests", "Proxied requests by provider, operation and status.",
            ["provider", "operation", "status"], registry=r,
        )  # fmt: skip
        self.blocks = Counter(
            "otelspend_gateway_blocks", "Calls refused by a hard budget.",
            ["budget_id", "scope", "window"], registry=r,
        )  # fmt: skip
        self.cap_rejections = Counter(
            "otelspend_gateway_cap_rejections", "Calls refused by a per-call cap.", ["cap"],
            registry=r,
        )  # fmt: skip
        self.upstream_seconds = Histogram(
            "otelspend_gateway_upstream_seconds", "Upstream time to response headers.",
            ["provider"], buckets=_LATENCY_BUCKETS_S, registry=r,
        )  # fmt: skip
        self.overhead_seconds = Histogram(
            "otelspend_gateway_overhead_seconds",
            "Time the gateway adds before forwarding (auth, estimate, reservation).",
            ["provider"], buckets=_LATENCY_BUCKETS_S, registry=r,
        )  # fmt: skip
        self.cache = Counter(
            "otelspend_gateway_cache", "Response cache lookups by result.", ["result"], registry=r
        )
        self.cache_saved_nanousd = Counter(
            "otelspend_gateway_cache_saved_nanousd", "Cost of cached answers served.", registry=r
        )
        self.record_failures = Counter(
            "otelspend_gateway_record_failures", "Calls whose record could not be stored.",
            registry=r,
        )  # fmt: skip

    def render(self) -> bytes:
        """The text exposition format (summed over every process when shared)."""
        if self._shared_dir is None:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=self._shared_dir)
        return generate_latest(merged)
