"""Claude Code: llm_request spans, api_request events and usage metrics describe one call."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from semconv.normalize import normalize_logs, normalize_metrics, normalize_spans
from semconv.records import (
    GRANULARITY_AGGREGATE,
    GRANULARITY_CALL,
    TEMPORALITY_CUMULATIVE,
    LlmCall,
)
from tests.semconv._records import log, point, span

RESOURCE = {"service.name": "claude-code", "service.version": "2.1.197", "team.id": "platform"}
SESSION = "f40d9f4e-3325-4f91-b568-8a475cfb8ecf"
COMMON = {"session.id": SESSION, "user.id": "7f3f68", "user.email": "dev@example.com"}
TOKENS = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "cache_read_tokens": 5000,
    "cache_creation_tokens": 800,
}
SPAN_END_NS = 1_795_391_325_712_291_013
LOG_NS = 1_795_391_325_712_000_000  # the span's end, truncated to milliseconds


def _span(**attrs: Any) -> Any:
    base = {
        **COMMON,
        "span.type": "llm_request",
        "model": "claude-opus-4-8[1m]",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-opus-4-8[1m]",
        "speed": "normal",
        "duration_ms": 25,
        **TOKENS,
    }
    return span(
        "claude_code.llm_request",
        {**base, **attrs},
        resource=RESOURCE,
        span_id="43e4a67fa15088ad",
        parent="12fecd14c815251e",
        end_ns=SPAN_END_NS,
    )


def _log(**attrs: Any) -> Any:
    base = {
        **COMMON,
        "event.name": "api_request",
        "model": "claude-opus-4-8",
        "cost_usd": 0.020999999999999998,
        "cost_usd_micros": 21000,
        "duration_ms": 19,
        **TOKENS,
    }
    return log(
        {**base, **attrs},
        body="claude_code.api_request",
        resource=RESOURCE,
        time_ns=LOG_NS,
        trace_id="2946baaccecf21330cd98036e44a6ed7",
        span_id="12fecd14c815251e",
    )


def _only(calls: list[LlmCall]) -> LlmCall:
    assert len(calls) == 1, calls
    return calls[0]


def test_span_and_log_of_one_call_share_a_call_id() -> None:
    from_span = _only(normalize_spans([_span()]).calls)
    from_log = _only(normalize_logs([_log()]).calls)

    assert from_span.call_id == from_log.call_id
    assert from_span.call_id.startswith("claude_code:")
    for call in (from_span, from_log):
        assert (call.granularity, call.dialect, call.provider) == (
            GRANULARITY_CALL,
            "claude_code",
            "anthropic",
        )
        # raw Anthropic usage: input already excludes cache
        assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (
            1200,
            5000,
            800,
        )
        assert (call.output_tokens, call.reasoning_tokens) == (300, 0)
        assert (call.session_id, call.agent_name, call.service_name) == (
            SESSION,
            "claude-code",
            "claude-code",
        )
        assert call.user_hints == (("user.id", "7f3f68"), ("user.email", "dev@example.com"))
    assert from_span.request_model == "claude-opus-4-8[1m]"  # as sent; pricing strips it
    assert from_log.request_model == "claude-opus-4-8"
    assert (from_span.source, from_log.source) == ("span", "log")
    assert from_span.client_cost_usd is None
    assert from_log.client_cost_usd == Decimal("0.021")  # from the exact micros
    assert (from_log.start_ns, from_log.end_ns) == (LOG_NS - 19_000_000, LOG_NS)


def test_log_cost_falls_back_to_the_double() -> None:
    call = _only(normalize_logs([_log(cost_usd_micros=None, cost_usd=0.5)]).calls)
    assert call.client_cost_usd == Decimal("0.5")


@pytest.mark.parametrize(
    "change",
    [{"output_tokens": 301}, {"cache_read_tokens": 0}, {"session.id": "other-session"}],
)
def test_a_different_call_gets_a_different_id(change: dict) -> None:
    base = _only(normalize_logs([_log()]).calls).call_id
    assert _only(normalize_logs([_log(**change)]).calls).call_id != base


def test_a_call_a_millisecond_later_gets_a_different_id() -> None:
    base = _only(normalize_logs([_log()]).calls).call_id
    later = _log()._replace(time_ns=LOG_NS + 1_000_000)
    assert _only(normalize_logs([later]).calls).call_id != base


def test_interaction_span_and_other_events_produce_nothing() -> None:
    interaction = span(
        "claude_code.interaction",
        {**COMMON, "span.type": "interaction"},
        resource=RESOURCE,
        span_id="12fecd14c815251e",
    )
    tool = span("claude_code.tool", {**COMMON, **TOKENS}, resource=RESOURCE)
    assert normalize_spans([interaction, tool]).calls == []
    events = [
        log(
            {**COMMON, "event.name": "user_prompt", "prompt_length": "6"},
            body="claude_code.user_prompt",
            resource=RESOURCE,
        ),
        log(
            {**COMMON, "event.name": "api_error", "model": "claude-opus-4-8", "error": "x"},
            body="claude_code.api_error",
            resource=RESOURCE,
        ),
    ]
    batch = normalize_logs(events)
    assert (batch.calls, batch.rejections) == ([], [])


def test_detected_by_span_name_when_the_service_name_is_overridden() -> None:
    renamed = _span()._replace(resource={"service.name": "my-ide"})
    assert _only(normalize_spans([renamed]).calls).dialect == "claude_code"


def test_detected_by_event_name_when_the_body_is_missing() -> None:
    event = _log()._replace(
        body=None,
        event_name="claude_code.api_request",
        resource={"service.name": "renamed"},
    )
    assert _only(normalize_logs([event]).calls).dialect == "claude_code"


def test_failed_attempt_without_usage_produces_nothing() -> None:
    attrs = {k: v for k, v in _span().attributes.items() if k not in TOKENS}
    failed = span("claude_code.llm_request", {**attrs, "success": False}, resource=RESOURCE)
    batch = normalize_spans([failed])
    assert (batch.calls, batch.rejections) == ([], [])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"model": None, "gen_ai.request.model": None},
            "missing model: set model or gen_ai.request.model",
        ),
        ({"input_tokens": -1200}, "input_tokens is -1200: token counts cannot be negative"),
        ({"cache_read_tokens": 500_000_000}, "cache_read_tokens is 500000000: above the limit"),
    ],
)
def test_unusable_llm_request_is_rejected(change: dict, reason: str) -> None:
    batch = normalize_spans([_span(**change)])
    assert batch.calls == []
    assert reason in batch.rejections[0].reason


TOKEN_METRIC = "claude_code.token.usage"
COST_METRIC = "claude_code.cost.usage"
METRIC_ATTRS = {**COMMON, "model": "claude-opus-4-8[1m]", "query_source": "main"}


def _usage_points(model: str = "claude-opus-4-8[1m]", **kw: Any) -> list:
    attrs = {**METRIC_ATTRS, "model": model}
    values = {"input": 1200.0, "output": 300.0, "cacheRead": 5000.0, "cacheCreation": 800.0}
    points = [
        point(TOKEN_METRIC, v, {**attrs, "type": t}, unit="tokens", **kw) for t, v in values.items()
    ]
    return [*points, point(COST_METRIC, 0.020999999999999998, attrs, unit="USD", **kw)]


def test_token_and_cost_points_merge_into_one_aggregate() -> None:
    session_count = point("claude_code.session.count", 1.0, COMMON)
    batch = normalize_metrics([session_count, *_usage_points()])
    assert batch.rejections == []
    call = _only(batch.calls)
    assert (call.granularity, call.source, call.dialect) == (
        GRANULARITY_AGGREGATE,
        "metric",
        "claude_code",
    )
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (1200, 5000, 800)
    assert call.output_tokens == 300
    assert call.client_cost_usd == Decimal("0.020999999999999998")
    assert (call.request_model, call.session_id, call.agent_name) == (
        "claude-opus-4-8[1m]",
        SESSION,
        "claude-code",
    )
    # deterministic: a resend of the export maps to the same aggregate
    assert normalize_metrics(_usage_points()).calls[0].call_id == call.call_id


def test_points_of_two_models_make_two_aggregates() -> None:
    batch = normalize_metrics([*_usage_points(), *_usage_points("claude-haiku-4-5")])
    assert sorted(c.request_model for c in batch.calls) == [
        "claude-haiku-4-5",
        "claude-opus-4-8[1m]",
    ]
    assert len({c.call_id for c in batch.calls}) == 2


def test_points_of_one_group_with_different_attributes_are_summed() -> None:
    extra = point(TOKEN_METRIC, 100.0, {**METRIC_ATTRS, "type": "input", "query_source": "sdk"})
    call = _only(normalize_metrics([*_usage_points(), extra]).calls)
    assert call.input_tokens == 1300


def test_cumulative_points_are_not_read() -> None:
    batch = normalize_metrics(_usage_points(temporality=TEMPORALITY_CUMULATIVE))
    assert (batch.calls, batch.rejections) == ([], [])


def test_unusable_points_are_rejected_by_index() -> None:
    points = _usage_points()
    points[1] = point(TOKEN_METRIC, -300.0, {**METRIC_ATTRS, "type": "output"})
    points[2] = point(TOKEN_METRIC, 12.5, {**METRIC_ATTRS, "type": "cacheRead"})
    batch = normalize_metrics(points)
    assert [r.index for r in batch.rejections] == [1, 2]
    assert "claude_code.token.usage (type=output) is -300" in batch.rejections[0].reason
    assert "must be integers" in batch.rejections[1].reason
    assert _only(batch.calls).input_tokens == 1200
