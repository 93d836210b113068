"""Prometheus metrics of the gateway, on its own registry (served at GET /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS_S = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                      2.5, 5, 10, 30, 60, 120)  # fmt: skip


class GatewayMetrics:
    """Requests, blocks by budget, upstream latency, added overhead, cache results."""

    def __init__(self) -> None:
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
        """The text exposition format."""
        return generate_latest(self.registry)
