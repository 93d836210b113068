"""The CPU-heavy, store-independent half of the pipeline: decode → normalize → span rows.

Pure functions of the request body, so they can run in worker processes: CPython's GIL
would otherwise cap ingest at one core, and decoding protobuf attributes (~1 µs each) is
most of the per-span cost.  What comes back is small and pickles cheaply; pricing,
attribution and the single writer stay in the serving process.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from collector_processor.otlp.decode import decode_logs, decode_metrics, decode_traces
from semconv.evaluations import FoundEvaluations, log_evaluations, span_evaluations
from semconv.normalize import normalize_logs, normalize_metrics, normalize_spans
from semconv.records import LlmCall, LogRecord, MetricPoint, Rejection, SpanRecord


class Prepared(NamedTuple):
    """One request, decoded and normalized: what the serving process needs to commit it."""

    received: int
    span_rows: list[tuple[Any, ...]]  # values in store SPAN_VALUE_COLUMNS order
    calls: list[LlmCall]
    rejections: list[Rejection]
    evaluations: FoundEvaluations | None = None  # gen_ai.evaluation.result events, links


def prepare(signal: str, body: bytes, encoding: str) -> Prepared:
    """Decode and normalize one export body; raises errors.DecodeError for bad bodies."""
    if signal == "traces":
        return prepare_spans(decode_traces(body, encoding))
    if signal == "logs":
        return prepare_logs(decode_logs(body, encoding))
    if signal == "metrics":
        return prepare_metrics(decode_metrics(body, encoding))
    raise ValueError(f"unknown signal {signal!r}")


def prepare_spans(spans: list[SpanRecord]) -> Prepared:
    """Normalize spans and build the rows of the ones accepted."""
    norm = normalize_spans(spans)
    bad = {r.index for r in norm.rejections}
    resource_json: dict[int, str] = {}
    rows = [span_values(s, resource_json) for i, s in enumerate(spans) if i not in bad]
    return Prepared(len(spans), rows, norm.calls, norm.rejections, span_evaluations(spans))


def prepare_logs(logs: list[LogRecord]) -> Prepared:
    """Normalize logs; an evaluation record that cannot be used is rejected like a bad call."""
    norm = normalize_logs(logs)
    found = log_evaluations(logs)
    rejections = norm.rejections
    if found.problems:
        rejections = sorted([*rejections, *found.problems], key=lambda r: r.index)
        found.problems = []
    return Prepared(len(logs), [], norm.calls, rejections, found)


def prepare_metrics(points: list[MetricPoint]) -> Prepared:
    """Normalize metric points into per-session aggregates."""
    norm = normalize_metrics(points)
    return Prepared(len(points), [], norm.calls, norm.rejections)


def _dumps(value: Any) -> str:
    # orjson: ~5x faster than json.dumps, and this runs for every span on the hot path.
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def span_values(span: SpanRecord, resource_json: dict[int, str]) -> tuple[Any, ...]:
    """A span's row values (store SPAN_VALUE_COLUMNS order), shared resources JSON-ed once."""
    res = resource_json.get(id(span.resource))
    if res is None:
        res = resource_json[id(span.resource)] = _dumps(span.resource)
    events = "[]"
    if span.events:
        events = _dumps(
            [
                {"name": e.name, "time_ns": e.time_ns, "attributes": e.attributes}
                for e in span.events
            ]
        )
    return (
        span.trace_id,
        span.span_id,
        span.parent_span_id,
        span.name,
        span.kind,
        span.start_ns,
        span.end_ns,
        span.status_code,
        span.status_message,
        str(span.resource.get("service.name", "")),
        span.scope_name,
        _dumps(span.attributes),
        res,
        events,
    )
