"""OpenLIT: GenAI semantic conventions plus the client's own cost in gen_ai.usage.cost.

INPUT-TOKEN INCLUSIVITY: the GenAI semconv rule (see genai.py) — gen_ai.usage.input_tokens
INCLUDES cached tokens, with the exclusive fallback when the cache counts exceed it.
gen_ai.usage.cost (USD, a double) becomes client_cost_usd; our own pricing still decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from semconv import names as n
from semconv.dialects import genai
from semconv.dialects.common import usd
from semconv.records import LlmCall, LogRecord, SpanRecord

DIALECT = "openlit"


def detect(attrs: Mapping[str, Any], resource: Mapping[str, Any]) -> bool:
    """Return True for records OpenLIT produced (its cost attribute or its SDK name)."""
    return n.OPENLIT_COST in attrs or resource.get(n.TELEMETRY_SDK_NAME) == n.OPENLIT_SDK_NAME


def span_call(span: SpanRecord) -> LlmCall | None:
    """Return the call an OpenLIT span describes, with OpenLIT's cost attached."""
    cost = usd(span.attributes.get(n.OPENLIT_COST))
    return genai.span_call(span, dialect=DIALECT, cost=cost)


def log_call(log: LogRecord, event_name: str) -> LlmCall | None:
    """Return the call an OpenLIT log event describes, with OpenLIT's cost attached."""
    cost = usd(log.attributes.get(n.OPENLIT_COST))
    return genai.log_call(log, event_name, dialect=DIALECT, cost=cost)
