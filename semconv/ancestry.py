"""Which spans are open right now, so a hook can look at the ancestors of an HTTP call.

The httpx instrumentation starts the HTTP span before our request hook runs, and an OTel
context holds only the current span, not its parents.  This span processor keeps every open
span of the provider by id; `ActiveSpans.ancestors(span)` then walks up the parent chain.
The hooks use it to skip calls an official GenAI instrumentation already describes
(opentelemetry-instrumentation-openai-v2, OpenLLMetry, OpenInference: their call span is an
open ancestor of the HTTP span) and to inherit gen_ai.agent.name from an invoke_agent span.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from semconv import names as n

_MAX_OPEN_SPANS = 100_000  # a leak guard: spans that never end must not grow memory forever
_MAX_DEPTH = 64
_LLM_KINDS = frozenset({n.OI_KIND_LLM, n.OI_KIND_EMBEDDING})


class ActiveSpans(SpanProcessor):
    """Span processor recording open spans (id -> span); cheap: one dict op per start/end."""

    def __init__(self) -> None:
        self._open: dict[int, ReadableSpan] = {}
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Remember the span while it is open."""
        with self._lock:
            if len(self._open) >= _MAX_OPEN_SPANS:
                self._open.clear()
            self._open[span.context.span_id] = span

    def on_end(self, span: ReadableSpan) -> None:
        """Forget the span."""
        if span.context is not None:
            with self._lock:
                self._open.pop(span.context.span_id, None)

    def ancestors(self, span: Any) -> Iterator[ReadableSpan]:
        """Yield the open ancestors of `span`, nearest first (stops at a non-local parent)."""
        parent = getattr(span, "parent", None)
        for _ in range(_MAX_DEPTH):
            if parent is None:
                return
            with self._lock:
                found = self._open.get(parent.span_id)
            if found is None:
                return
            yield found
            parent = found.parent

    def shutdown(self) -> None:
        """Drop everything."""
        with self._lock:
            self._open.clear()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True


def describes_call(attrs: Mapping[str, Any] | None) -> bool:
    """True when a span's attributes make it a model-call span of some GenAI instrumentation."""
    if not attrs:
        return False
    op = attrs.get(n.GEN_AI_OPERATION_NAME)
    if isinstance(op, str) and op in n.CALL_OPERATIONS:
        return True
    if n.OPENLLMETRY_REQUEST_TYPE in attrs:
        return True
    return attrs.get(n.OI_SPAN_KIND) in _LLM_KINDS


def inherited_agent(spans: Iterator[ReadableSpan]) -> str:
    """The gen_ai.agent.name of the nearest ancestor that has one ("" when none does)."""
    for span in spans:
        name = (span.attributes or {}).get(n.GEN_AI_AGENT_NAME)
        if isinstance(name, str) and name:
            return name
    return ""
