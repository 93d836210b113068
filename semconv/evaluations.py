"""GenAI evaluation results (`gen_ai.evaluation.result`) found in spans and logs: pure functions.

The GenAI semantic conventions record an evaluation as an event that SHOULD be parented to
the evaluated operation's span, or SHOULD carry `gen_ai.response.id` when no span context is
available.  otelspend reads it in both shapes: a span event on the evaluated span, and a log
record (trace/span context, or the response id).  The result is a frozen `Evaluation`; the
store keys it by (target, name, source), so a resend never adds a second tag.

Cost on the hot path: a span without events costs one attribute lookup (its response id,
kept so response-id-only evaluations can be joined to the span at query time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from semconv.records import LogRecord, Rejection, SpanRecord

EVALUATION_RESULT_EVENT = "gen_ai.evaluation.result"
GEN_AI_EVALUATION_NAME = "gen_ai.evaluation.name"
GEN_AI_EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value"
GEN_AI_EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label"
GEN_AI_EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"
GEN_AI_RESPONSE_ID = "gen_ai.response.id"
ERROR_TYPE = "error.type"

MAX_NAME_CHARS = 256
MAX_LABEL_CHARS = 256
MAX_SOURCE_CHARS = 256
MAX_RESPONSE_ID_CHARS = 512
MAX_EXPLANATION_CHARS = 8192  # judge rationales can be long; the rest is cut, marked "…"
_TRACE_ID_HEX_CHARS = 32
_SPAN_ID_HEX_CHARS = 16
_HEX = frozenset("0123456789abcdef")


class InvalidEvaluation(ValueError):
    """An evaluation that cannot be stored; the message tells the sender what to fix."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluation of a span, a trace or a model response.

    `trace_id`/`span_id` are lowercase hex ("" when unknown); `response_id` is
    gen_ai.response.id ("" when absent).  At least one of score and label is set unless
    `error_type` says the evaluation itself failed.
    """

    name: str
    score: float | None
    label: str
    explanation: str
    trace_id: str
    span_id: str
    response_id: str
    time_ns: int
    source: str
    error_type: str = ""

    @property
    def target(self) -> str:
        """What was evaluated, as stored: a span, a whole trace, or a response id."""
        if self.trace_id and self.span_id:
            return f"span:{self.trace_id}:{self.span_id}"
        if self.trace_id:
            return f"trace:{self.trace_id}"
        return f"response:{self.response_id}"


@dataclass(slots=True)
class FoundEvaluations:
    """What one batch of spans or logs holds: evaluations, response links, unusable events.

    `response_links` are (response_id, trace_id, span_id) of spans naming gen_ai.response.id;
    `problems` index the span or log record whose evaluation event was refused.
    """

    evaluations: list[Evaluation] = field(default_factory=list)
    response_links: list[tuple[str, str, str]] = field(default_factory=list)
    problems: list[Rejection] = field(default_factory=list)


def span_evaluations(spans: Sequence[SpanRecord]) -> FoundEvaluations:
    """Return the evaluation events recorded on spans and the spans' response ids."""
    found = FoundEvaluations()
    links = found.response_links
    for index, span in enumerate(spans):
        response_id = span.attributes.get(GEN_AI_RESPONSE_ID)
        if response_id and isinstance(response_id, str) and span.span_id:
            links.append((response_id[:MAX_RESPONSE_ID_CHARS], span.trace_id, span.span_id))
        if not span.events:
            continue
        for event in span.events:
            if event.name != EVALUATION_RESULT_EVENT:
                continue
            try:
                found.evaluations.append(
                    evaluation_from_attributes(
                        event.attributes,
                        trace_id=span.trace_id,
                        span_id=span.span_id,
                        time_ns=event.time_ns or span.end_ns,
                        source=otlp_source(span.resource),
                    )
                )
            except InvalidEvaluation as exc:
                found.problems.append(Rejection(index, f"{EVALUATION_RESULT_EVENT} event: {exc}"))
    return found


def log_evaluations(logs: Sequence[LogRecord]) -> FoundEvaluations:
    """Return the evaluations that `gen_ai.evaluation.result` log records describe."""
    found = FoundEvaluations()
    for index, log in enumerate(logs):
        if log.event_name != EVALUATION_RESULT_EVENT:
            continue
        try:
            found.evaluations.append(
                evaluation_from_attributes(
                    log.attributes,
                    trace_id=log.trace_id,
                    span_id=log.span_id,
                    time_ns=log.time_ns,
                    source=otlp_source(log.resource),
                )
            )
        except InvalidEvaluation as exc:
            found.problems.append(Rejection(index, f"{EVALUATION_RESULT_EVENT}: {exc}"))
    return found


def otlp_source(resource: Mapping[str, Any]) -> str:
    """The source of evaluations sent over OTLP: the emitting service, when it says."""
    service = resource.get("service.name")
    return f"otlp:{service}"[:MAX_SOURCE_CHARS] if isinstance(service, str) and service else "otlp"


def evaluation_from_attributes(
    attrs: Mapping[str, Any], *, trace_id: str, span_id: str, time_ns: int, source: str
) -> Evaluation:
    """Build an Evaluation from semconv attributes; raise InvalidEvaluation when unusable."""
    return make_evaluation(
        name=attrs.get(GEN_AI_EVALUATION_NAME),
        score=attrs.get(GEN_AI_EVALUATION_SCORE_VALUE),
        label=attrs.get(GEN_AI_EVALUATION_SCORE_LABEL),
        explanation=attrs.get(GEN_AI_EVALUATION_EXPLANATION),
        trace_id=trace_id,
        span_id=span_id,
        response_id=attrs.get(GEN_AI_RESPONSE_ID),
        time_ns=time_ns,
        source=source,
        error_type=attrs.get(ERROR_TYPE),
    )


def make_evaluation(
    *,
    name: Any,
    score: Any = None,
    label: Any = None,
    explanation: Any = None,
    trace_id: Any = "",
    span_id: Any = "",
    response_id: Any = None,
    time_ns: int,
    source: str,
    error_type: Any = None,
) -> Evaluation:
    """Validate loosely-typed fields (OTLP attributes, JSON) into an Evaluation."""
    name = _text("gen_ai.evaluation.name", name, MAX_NAME_CHARS)
    if not name:
        raise InvalidEvaluation("gen_ai.evaluation.name is required")
    label = _text("gen_ai.evaluation.score.label", label, MAX_LABEL_CHARS)
    error = _text("error.type", error_type, MAX_LABEL_CHARS)
    value = _score(score)
    if value is None and not label and not error:
        raise InvalidEvaluation(f"evaluation {name!r} has neither a score value nor a label")
    trace = _hex_id("trace id", trace_id, _TRACE_ID_HEX_CHARS)
    span = _hex_id("span id", span_id, _SPAN_ID_HEX_CHARS) if trace else ""
    response = _text("gen_ai.response.id", response_id, MAX_RESPONSE_ID_CHARS)
    if not trace and not response:
        raise InvalidEvaluation(
            f"evaluation {name!r} names no target: send it in the evaluated span's context "
            "(trace and span id) or set gen_ai.response.id"
        )
    return Evaluation(
        name=name,
        score=value,
        label=label,
        explanation=_explanation(explanation),
        trace_id=trace,
        span_id=span,
        response_id=response,
        time_ns=max(0, int(time_ns)),
        source=source[:MAX_SOURCE_CHARS] or "unknown",
        error_type=error,
    )


def _text(what: str, value: Any, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidEvaluation(f"{what} must be a string, got {type(value).__name__}")
    value = value.strip()
    if len(value) > limit:
        raise InvalidEvaluation(f"{what} is longer than {limit} characters")
    return value


def _score(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidEvaluation(f"score value must be a number, got {type(value).__name__}")
    try:
        number = float(value)
    except ValueError:
        raise InvalidEvaluation(f"score value must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidEvaluation(f"score value must be finite, got {value!r}")
    return number


def _hex_id(what: str, value: Any, length: int) -> str:
    if not value:
        return ""
    if not isinstance(value, str):
        raise InvalidEvaluation(f"{what} must be a hex string")
    lowered = value.strip().lower()
    if len(lowered) != length or not _HEX.issuperset(lowered) or lowered == "0" * length:
        raise InvalidEvaluation(f"{what} must be {length} hex characters, got {value!r}")
    return lowered


def _explanation(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_EXPLANATION_CHARS:
        return text[: MAX_EXPLANATION_CHARS - 1] + "…"
    return text
