"""Evaluations → store rows, and the JSON body of POST /v1/evaluations → Evaluations."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from collector_processor.consumer import IngestKey
from collector_processor.errors import InvalidInput
from semconv import evaluations as ev
from semconv.evaluations import Evaluation, FoundEvaluations, InvalidEvaluation, make_evaluation
from semconv.records import Rejection
from store.writer import WriteBatch

MAX_EVALUATIONS_PER_REQUEST = 10_000
_MAX_WARNINGS_IN_MESSAGE = 3
# JSON field → the semconv attribute that may also name it (evaluator SDKs speak semconv).
_ALIASES = {
    "name": ev.GEN_AI_EVALUATION_NAME,
    "score": ev.GEN_AI_EVALUATION_SCORE_VALUE,
    "label": ev.GEN_AI_EVALUATION_SCORE_LABEL,
    "explanation": ev.GEN_AI_EVALUATION_EXPLANATION,
    "response_id": ev.GEN_AI_RESPONSE_ID,
    "error_type": ev.ERROR_TYPE,
}


def evaluation_row(e: Evaluation, org_id: int, key_id: int, now_ns: int) -> dict[str, Any]:
    """The evaluations-table row of one evaluation."""
    return {
        "org_id": org_id,
        "target": e.target,
        "trace_id": e.trace_id,
        "span_id": e.span_id,
        "response_id": e.response_id,
        "name": e.name,
        "source": e.source,
        "score": e.score,
        "label": e.label,
        "explanation": e.explanation,
        "error_type": e.error_type,
        "time_ns": e.time_ns or now_ns,
        "key_id": key_id,
        "updated_ns": now_ns,
    }


def add_to_batch(batch: WriteBatch, found: FoundEvaluations | None, key: IngestKey) -> None:
    """Put what a request's spans or logs held about evaluations on its write batch."""
    if found is None:
        return
    if found.response_links:
        batch.response_links = found.response_links
    if found.evaluations:
        now = time.time_ns()
        batch.evaluations = [
            evaluation_row(e, key.org_id, key.key_id, now) for e in found.evaluations
        ]


def warning_message(found: FoundEvaluations | None) -> str:
    """Describe span-event evaluations that were refused (their spans were stored)."""
    if found is None or not found.problems:
        return ""
    shown = [f"span #{p.index}: {p.reason}" for p in found.problems[:_MAX_WARNINGS_IN_MESSAGE]]
    more = len(found.problems) - len(shown)
    tail = f"; and {more} more" if more else ""
    return f"ignored {len(found.problems)} evaluation event(s): " + "; ".join(shown) + tail


def parse_request(body: bytes, key: IngestKey) -> tuple[list[Evaluation], list[Rejection]]:
    """Decode `{"evaluations": [...]}` (or a bare list); raise InvalidInput for a bad body."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from None
    items = doc.get("evaluations") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InvalidInput('body must be {"evaluations": [ {...}, ... ]} or a JSON list')
    if len(items) > MAX_EVALUATIONS_PER_REQUEST:
        raise InvalidInput(f"at most {MAX_EVALUATIONS_PER_REQUEST} evaluations per request")
    default_source = f"api:{key.prefix}"
    found: list[Evaluation] = []
    refused: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            found.append(_item(item, default_source))
        except InvalidEvaluation as exc:
            refused.append(Rejection(index, str(exc)))
    return found, refused


def _item(item: Any, default_source: str) -> Evaluation:
    if not isinstance(item, Mapping):
        raise InvalidEvaluation("each evaluation must be a JSON object")
    source = item.get("source") or default_source
    if not isinstance(source, str):
        raise InvalidEvaluation("source must be a string")
    return make_evaluation(
        **{field: _field(item, field) for field in _ALIASES},
        trace_id=item.get("trace_id") or "",
        span_id=item.get("span_id") or "",
        time_ns=_time_ns(item),
        source=source,
    )


def _field(item: Mapping[str, Any], field: str) -> Any:
    value = item.get(field)
    return item.get(_ALIASES[field]) if value is None else value


def _time_ns(item: Mapping[str, Any]) -> int:
    """`time_unix_nano` (integer) or `time` (RFC 3339); now when neither is given."""
    nanos = item.get("time_unix_nano")
    if nanos is not None:
        if isinstance(nanos, bool) or not isinstance(nanos, int | str) or not str(nanos).isdigit():
            raise InvalidEvaluation("time_unix_nano must be a non-negative integer")
        return int(nanos)
    stamp = item.get("time")
    if stamp is None:
        return time.time_ns()
    if not isinstance(stamp, str):
        raise InvalidEvaluation("time must be an RFC 3339 string")
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidEvaluation(f"time {stamp!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise InvalidEvaluation(f"time {stamp!r} has no UTC offset")
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
