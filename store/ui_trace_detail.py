"""One trace as the UI's waterfall shows it: every span, the model calls on them, the tags.

Three primary-key / index lookups: spans by (trace_id, span_id) prefix, calls by trace_id,
evaluation tags by (org, trace).  Spans come back in tree order (a parent before its
children, siblings by start time) with their depth, which is what a waterfall draws.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table, select

from store.evaluations import TagView, trace_tags
from store.subjects import subject_names
from store.tables import LlmCallRow, SpanRow
from store.ui_traces import unindexed

SPANS: Table = SpanRow.__table__  # type: ignore[attr-defined]
CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]
STATUS_ERROR = 2
_CALL_FIELDS = (
    "call_id",
    "span_id",
    "agent",
    "provider",
    "model",
    "request_model",
    "operation",
    "granularity",
    "source",
    "billed",
    "start_ns",
    "end_ns",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_nanousd",
    "client_cost_nanousd",
    "price_version",
    "unpriced_reason",
    "session_id",
    "user_id",
    "key_id",
    "workspace_id",
)


@dataclass(frozen=True, slots=True)
class CallView:
    """A model call of the trace: tokens by class, cost (None = unpriced), price version."""

    call_id: str
    span_id: str
    agent: str
    provider: str
    model: str
    request_model: str
    operation: str
    granularity: str
    source: str
    billed: bool
    start_ns: int
    end_ns: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_nanousd: int | None
    client_cost_nanousd: int | None
    price_version: str
    unpriced_reason: str
    session_id: str
    user_id: int
    key_id: int
    workspace_id: int


@dataclass(frozen=True, slots=True)
class SpanView:
    """A span in tree order, with its depth and the call it carries (if any)."""

    span_id: str
    parent_span_id: str
    name: str
    depth: int
    start_ns: int
    end_ns: int
    status_code: int
    status_message: str
    service_name: str
    attributes: str  # JSON, shown on demand
    resource: str
    events: str
    call: CallView | None = None

    @property
    def is_error(self) -> bool:
        """OTLP status ERROR."""
        return self.status_code == STATUS_ERROR


@dataclass
class TraceDetail:
    """Everything the Trace page shows."""

    trace_id: str
    spans: list[SpanView]
    calls: list[CallView]  # every call, including those without a stored span
    tags: list[TagView]
    names: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def cost_nanousd(self) -> int:
        """Billed cost of the trace's priced calls."""
        return sum(c.cost_nanousd or 0 for c in self.calls if c.billed)

    @property
    def unpriced_calls(self) -> int:
        """Billed calls without a price."""
        return sum(1 for c in self.calls if c.billed and c.cost_nanousd is None)

    @property
    def session_ids(self) -> list[str]:
        """Sessions the trace's calls belong to (normally one)."""
        return sorted({c.session_id for c in self.calls if c.session_id})

    @property
    def errors(self) -> int:
        """Spans with status ERROR."""
        return sum(1 for s in self.spans if s.is_error)

    def tokens(self, name: str) -> int:
        """Sum of one token class over the billed calls."""
        return sum(int(getattr(c, name)) for c in self.calls if c.billed)


def trace_detail(engine: Engine, org_id: int, trace_id: str) -> TraceDetail | None:
    """The trace's spans, calls and tags in `org_id`; None when the org has none of them."""
    s, c = SPANS.c, CALLS.c
    span_cols = [s[n] for n in SpanView.__slots__ if n not in ("depth", "call")]
    with engine.connect() as conn:
        spans = conn.execute(
            select(*span_cols).where(s.trace_id == trace_id, unindexed(s.org_id) == org_id)
        ).all()
        calls = [
            CallView(*r)
            for r in conn.execute(
                select(*(c[n] for n in _CALL_FIELDS))
                .where(c.trace_id == trace_id, unindexed(c.org_id) == org_id)
                .order_by(c.start_ns)
            )
        ]
        if not spans and not calls:
            return None
        names = {
            scope: subject_names(conn, scope, {getattr(x, f"{scope}_id") for x in calls})
            for scope in ("user", "key", "workspace")
        }
    tags = trace_tags(engine, org_id, trace_id)
    return TraceDetail(trace_id, _tree(spans, calls), calls, tags, names)


def _tree(rows: Sequence[Any], calls: list[CallView]) -> list[SpanView]:
    """Spans parent-first, siblings by start; orphans (parent not stored) are roots."""
    by_span = {call.span_id: call for call in calls if call.span_id and call.billed}
    ids = {r.span_id for r in rows}
    children: dict[str, list[Any]] = {}
    for r in rows:
        parent = r.parent_span_id if r.parent_span_id in ids else ""
        children.setdefault(parent, []).append(r)
    out: list[SpanView] = []
    stack = [(r, 0) for r in sorted(children.get("", []), key=_order, reverse=True)]
    while stack:
        r, depth = stack.pop()
        out.append(
            SpanView(
                r.span_id, r.parent_span_id, r.name, depth, int(r.start_ns), int(r.end_ns),
                int(r.status_code), r.status_message, r.service_name, r.attributes, r.resource,
                r.events, by_span.get(r.span_id),
            )
        )  # fmt: skip
        kids = sorted(children.get(r.span_id, []), key=_order, reverse=True)
        stack.extend((k, depth + 1) for k in kids)
    return out


def _order(r: Any) -> tuple[int, str]:
    return (int(r.start_ns), r.span_id)


def pretty_json(text: str) -> str:
    """Stored attribute JSON, indented for people (unparseable text is returned as is)."""
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True)
    except ValueError:
        return text
