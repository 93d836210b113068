"""Plain records that cross module boundaries: decoded telemetry in, canonical LLM calls out.

Protobuf and OTLP/JSON stop at the decode edge (collector_processor.otlp); everything past it
sees only these immutable records.  They are NamedTuples rather than frozen dataclasses
because the hot path builds one per span and per call: a 25-field frozen dataclass costs
~6.5 µs to construct on CPython 3.11, a NamedTuple ~1.6 µs.
Attribute values are plain Python: str, int, float, bool,
list (array values), dict (kvlist values); bytes values are rendered as lowercase hex.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

Attributes = dict[str, Any]

# Span kinds and status codes as numbered by OTLP.
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2

# Metric aggregation temporality as numbered by OTLP.
TEMPORALITY_UNSPECIFIED, TEMPORALITY_DELTA, TEMPORALITY_CUMULATIVE = 0, 1, 2


class SpanEvent(NamedTuple):
    """One event recorded on a span."""

    name: str
    time_ns: int
    attributes: Attributes


class SpanRecord(NamedTuple):
    """One decoded span; ids are lowercase hex ("" when absent)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: Attributes
    resource: Attributes  # shared by every record of one resource: never mutate
    scope_name: str
    status_code: int = STATUS_UNSET
    status_message: str = ""
    events: tuple[SpanEvent, ...] = ()


class LogRecord(NamedTuple):
    """One decoded log record.

    `time_ns` is time_unix_nano, or observed_time_unix_nano when the former is 0.
    `event_name` is the record's event_name field, else its `event.name` attribute, else "".
    """

    time_ns: int
    observed_ns: int
    trace_id: str
    span_id: str
    severity_number: int
    severity_text: str
    body: Any
    event_name: str
    attributes: Attributes
    resource: Attributes
    scope_name: str


class MetricPoint(NamedTuple):
    """One decoded data point of a Sum or Gauge (histograms carry their sum in `value`)."""

    name: str
    unit: str
    kind: str  # "sum" | "gauge" | "histogram" | "exponential_histogram" | "summary"
    temporality: int
    monotonic: bool
    start_ns: int
    time_ns: int
    value: int | float
    attributes: Attributes
    resource: Attributes
    scope_name: str


# Granularity of an LlmCall.  A CALL describes exactly one model call.  An AGGREGATE sums
# several calls of one session (a Claude Code metric point, a Codex turn span); it is billed
# only while its session has no CALL records, so a client that sends both is counted once.
GRANULARITY_CALL = "call"
GRANULARITY_AGGREGATE = "aggregate"


class LlmCall(NamedTuple):
    """The canonical record of one model call (or, for AGGREGATE, of a session's calls).

    Token classes never overlap except where stated: `input_tokens` is UNCACHED input only;
    `cache_write_1h_tokens` is the part of `cache_write_tokens` known to be 1-hour writes;
    `reasoning_tokens` is the part of `output_tokens` spent on reasoning.
    `call_id` is deterministic: every description of the same call (span, log event, metric
    point, a resend of any of them) yields the same id, which is what deduplicates them.
    """

    call_id: str
    granularity: str
    source: str  # "span" | "log" | "metric"
    dialect: str  # e.g. "genai", "claude_code", "codex", "gemini_cli", "openinference"
    provider: str  # "" when the telemetry does not say
    request_model: str  # as sent
    response_model: str  # as sent ("" when absent)
    operation: str  # "chat", "text_completion", "embeddings", ... ("" when unknown)
    start_ns: int
    end_ns: int
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    trace_id: str = ""
    span_id: str = ""
    session_id: str = ""
    agent_name: str = ""
    service_name: str = ""
    # (attribute name, value) pairs that may identify the human, e.g. ("user.email", "a@b.c").
    user_hints: tuple[tuple[str, str], ...] = ()
    client_cost_usd: Decimal | None = None
    extra: Mapping[str, Any] = MappingProxyType({})

    @property
    def model(self) -> str:
        """Model used for pricing: the response model when known, else the requested one."""
        return self.response_model or self.request_model

    @property
    def total_input_tokens(self) -> int:
        """Input including cached tokens (what long-context thresholds are judged on)."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True, slots=True)
class Rejection:
    """One record of a batch that was refused, with the reason a client can act on."""

    index: int
    reason: str


@dataclass(slots=True)
class NormalizedBatch:
    """What a normalizer made of a batch: the calls it found and the records it refused."""

    calls: list[LlmCall] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
