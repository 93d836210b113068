"""Fixtures for the instrumentation tests: semconv.instrument() into an in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from semconv.instrumentation import Instrumentation, instrument
from semconv.records import SpanRecord
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


@contextmanager
def official_openai(traced: Traced, upstream: StandinUpstream) -> Iterator[openai.OpenAI]:
    """An OpenAI client traced by the official openai-v2 instrumentation (ours stands aside)."""
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=traced.provider)
    try:
        yield openai.OpenAI(base_url=f"{upstream.url}/v1", api_key="x", max_retries=0)
    finally:
        instrumentor.uninstrument()


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


def span_record(span: ReadableSpan) -> SpanRecord:
    """The exported SDK span as the OTLP decoder hands it to the normalizers."""
    ctx, parent = span.get_span_context(), span.parent
    assert ctx is not None
    return SpanRecord(
        trace_id=f"{ctx.trace_id:032x}",
        span_id=f"{ctx.span_id:016x}",
        parent_span_id=f"{parent.span_id:016x}" if parent else "",
        name=span.name,
        kind=span.kind.value + 1,  # the SDK counts from INTERNAL = 0, OTLP from UNSPECIFIED = 0
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
        attributes=dict(span.attributes or {}),
        resource=dict(span.resource.attributes),
        scope_name=span.instrumentation_scope.name if span.instrumentation_scope else "",
        status_code=span.status.status_code.value,
    )
