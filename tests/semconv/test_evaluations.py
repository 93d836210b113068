"""gen_ai.evaluation.result as span events and log records → Evaluation records."""

from __future__ import annotations

from typing import Any

import pytest

from semconv.evaluations import (
    MAX_EXPLANATION_CHARS,
    InvalidEvaluation,
    log_evaluations,
    make_evaluation,
    span_evaluations,
)
from semconv.records import SpanEvent
from tests.semconv._records import END_NS, TRACE_ID, log, span

SPAN_ID = "00f067aa0ba902b7"
EVENT_NS = END_NS + 5_000_000


def _eval_attrs(**over: Any) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.evaluation.name": "Relevance",
        "gen_ai.evaluation.score.value": 0.85,
        "gen_ai.evaluation.score.label": "relevant",
        "gen_ai.evaluation.explanation": "Answers the question asked.",
    }
    attrs.update(over)
    return {k: v for k, v in attrs.items() if v is not None}


def _with_events(*events: SpanEvent, attrs: dict[str, Any] | None = None) -> Any:
    return span(attrs=attrs or {"gen_ai.operation.name": "chat"})._replace(events=events)


def test_span_event_is_an_evaluation_of_that_span() -> None:
    s = _with_events(SpanEvent("gen_ai.evaluation.result", EVENT_NS, _eval_attrs()))
    found = span_evaluations([s])
    (e,) = found.evaluations
    assert (e.trace_id, e.span_id, e.response_id) == (TRACE_ID, SPAN_ID, "")
    assert (e.name, e.score, e.label) == ("Relevance", 0.85, "relevant")
    assert e.explanation == "Answers the question asked."
    assert e.time_ns == EVENT_NS
    assert e.source == "otlp:my-agent"
    assert e.target == f"span:{TRACE_ID}:{SPAN_ID}"
    assert found.problems == []


def test_spans_without_events_give_only_their_response_id_link() -> None:
    plain = span(attrs={"gen_ai.response.id": "chatcmpl-123"})
    other = span(attrs={"gen_ai.response.id": 42}, span_id="1111111111111111")  # not a string
    found = span_evaluations([plain, other, span()])
    assert found.evaluations == []
    assert found.response_links == [("chatcmpl-123", TRACE_ID, SPAN_ID)]


def test_other_span_events_are_ignored_and_bad_evaluations_are_reported() -> None:
    s = _with_events(
        SpanEvent("exception", EVENT_NS, {"exception.type": "ValueError"}),
        SpanEvent(
            "gen_ai.evaluation.result", EVENT_NS, _eval_attrs(**{"gen_ai.evaluation.name": None})
        ),
        SpanEvent(
            "gen_ai.evaluation.result", 0, _eval_attrs(**{"gen_ai.evaluation.score.label": None})
        ),
    )
    found = span_evaluations([span(), s])
    (e,) = found.evaluations
    assert e.time_ns == s.end_ns  # an event without a time takes the span's end
    assert e.label == "" and e.score == 0.85
    (problem,) = found.problems
    assert problem.index == 1 and "gen_ai.evaluation.name is required" in problem.reason


def test_log_parented_to_a_span_targets_that_span() -> None:
    rec = log(
        _eval_attrs(),
        event_name="gen_ai.evaluation.result",
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        resource={"service.name": "nightly-judge"},
    )
    (e,) = log_evaluations([rec]).evaluations
    assert e.target == f"span:{TRACE_ID}:{SPAN_ID}"
    assert e.source == "otlp:nightly-judge"


def test_log_with_only_a_response_id_targets_the_response() -> None:
    attrs = _eval_attrs(**{"gen_ai.response.id": "msg_01XFDUDYJgAACzvnptvVoYEL"})
    (e,) = log_evaluations([log(attrs, event_name="gen_ai.evaluation.result")]).evaluations
    assert (e.trace_id, e.span_id) == ("", "")
    assert e.target == "response:msg_01XFDUDYJgAACzvnptvVoYEL"


def test_log_event_name_from_the_event_name_attribute() -> None:
    attrs = {**_eval_attrs(), "event.name": "gen_ai.evaluation.result"}
    found = log_evaluations([log(attrs, trace_id=TRACE_ID)])
    assert found.evaluations[0].target == f"trace:{TRACE_ID}"


def test_unusable_logs_are_problems_and_other_logs_are_ignored() -> None:
    logs = [
        log({"gen_ai.operation.name": "chat"}),
        log(_eval_attrs(), event_name="gen_ai.evaluation.result"),  # no target at all
    ]
    found = log_evaluations(logs)
    assert found.evaluations == []
    (problem,) = found.problems
    assert problem.index == 1 and "names no target" in problem.reason


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"name": ""}, "is required"),
        ({"name": 7}, "must be a string"),
        ({"score": True}, "must be a number"),
        ({"score": "high"}, "must be a number"),
        ({"score": float("nan")}, "finite"),
        ({"score": None, "label": None}, "neither a score value nor a label"),
        ({"trace_id": "xyz"}, "32 hex"),
        ({"trace_id": "0" * 32}, "32 hex"),
        ({"span_id": "abc"}, "16 hex"),
        ({"label": "x" * 300}, "longer than"),
    ],
)
def test_invalid_fields_are_refused(over: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "name": "correctness",
        "score": 1,
        "label": "pass",
        "trace_id": TRACE_ID,
        "span_id": SPAN_ID,
        "time_ns": 1,
        "source": "cli:alice",
    }
    fields.update(over)
    with pytest.raises(InvalidEvaluation, match=message):
        make_evaluation(**fields)


def test_lenient_where_it_is_harmless() -> None:
    e = make_evaluation(
        name=" correctness ",
        score="0.5",
        trace_id=TRACE_ID.upper(),
        span_id="",
        explanation="y" * (MAX_EXPLANATION_CHARS + 50),
        time_ns=1,
        source="s",
        error_type=None,
    )
    assert (e.name, e.score, e.trace_id) == ("correctness", 0.5, TRACE_ID)
    assert e.target == f"trace:{TRACE_ID}"
    assert len(e.explanation) == MAX_EXPLANATION_CHARS and e.explanation.endswith("…")
    failed = make_evaluation(
        name="judge", error_type="timeout", response_id="r1", time_ns=1, source="s"
    )
    assert failed.error_type == "timeout" and failed.score is None
