"""Fixtures for the instrumentation tests: semconv.instrument() into an in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from semconv.instrumentation import Instrumentation, instrument
from tests.otelspend.standin_upstream import StandinUpstream


@dataclass
class Traced:
    """An instrumented process (own provider, not the global one) and what it exported."""

    inst: Instrumentation
    exported: InMemorySpanExporter
    provider: TracerProvider

    def genai(self) -> list[ReadableSpan]:
        """Finished spans that describe model calls, oldest first."""
        self.inst.force_flush()
        spans = self.exported.get_finished_spans()
        return [s for s in spans if (s.attributes or {}).get("gen_ai.operation.name")]

    def one(self) -> dict[str, Any]:
        """The attributes of the only GenAI span (fails when there is not exactly one)."""
        spans = self.genai()
        assert len(spans) == 1, [s.name for s in spans]
        return dict(spans[0].attributes or {})


def traced_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Iterator[Traced]:
    """instrument() with its config isolated from the developer's files and variables."""
    monkeypatch.setenv("OTELSPEND_CLIENT_CONFIG", str(tmp_path / "absent.toml"))
    for name in ("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "OTELSPEND_AGENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    inst = instrument(tracer_provider=provider, exporter=exported, **kw)
    assert inst is not None
    try:
        yield Traced(inst, exported, provider)
    finally:
        inst.shutdown()


@pytest.fixture
def traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Traced]:
    yield from traced_process(tmp_path, monkeypatch)


@pytest.fixture
def upstream() -> Iterator[StandinUpstream]:
    with StandinUpstream() as server:
        yield server


def usage(attrs: dict[str, Any]) -> tuple[Any, ...]:
    """(input incl. cache, output incl. reasoning, cache read, cache write, reasoning)."""
    return tuple(
        attrs.get(f"gen_ai.usage.{name}")
        for name in (
            "input_tokens",
            "output_tokens",
            "cache_read.input_tokens",
            "cache_creation.input_tokens",
            "reasoning.output_tokens",
        )
    )
