"""Codex CLI: response.completed SSE events are calls, the turn span is an aggregate."""

from __future__ import annotations

from typing import Any

import pytest

from semconv.normalize import normalize_logs, normalize_spans
from semconv.records import GRANULARITY_AGGREGATE, GRANULARITY_CALL
from tests.semconv._records import log, span

RESOURCE = {"service.name": "codex_exec", "service.version": "0.169.0", "env": "dev"}
CONVERSATION = "01a205a9-a176-72c2-b721-bec6a4fb33c4"
STAMP = "2026-11-22T23:48:52.802Z"
STAMP_NS = 1_795_391_332_802_000_000
OBSERVED_NS = 1_795_391_332_802_800_804
SCOPE = "codex_otel.log_only"
COMMON = {
    "event.timestamp": STAMP,
    "conversation.id": CONVERSATION,
    "app.version": "0.169.0",
    "originator": "codex_exec",
    "model": "gpt-5.1-codex",
    "slug": "gpt-5.1-codex",
}


def _completed(attrs: dict[str, Any] | None = None, time_ns: int = OBSERVED_NS) -> Any:
    counts = {
        "input_token_count": "1200",
        "output_token_count": "300",
        "cached_token_count": 1000,
        "cache_write_token_count": 0,
        "reasoning_token_count": 100,
        "tool_token_count": "1500",
        "ttft_ms": 0,
    }
    fields = {
        "event.name": "codex.sse_event",
        "event.kind": "response.completed",
        **counts,
        **COMMON,
        **(attrs or {}),
    }
    # The record's event_name field really holds a Rust source location.
    return log(
        fields,
        event_name="event otel/src/events/session_telemetry.rs:1153",
        resource=RESOURCE,
        scope=SCOPE,
        time_ns=time_ns,
    )


def test_response_completed_with_counts_is_one_call() -> None:
    batch = normalize_logs([_completed()])
    assert batch.rejections == []
    [call] = batch.calls
    assert (call.granularity, call.source, call.dialect, call.provider) == (
        GRANULARITY_CALL,
        "log",
        "codex",
        "openai",
    )
    assert (call.request_model, call.operation) == ("gpt-5.1-codex", "responses")
    # OpenAI Responses: input 1200 includes 1000 cached; output 300 includes 100 reasoning
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (200, 1000, 0)
    assert (call.output_tokens, call.reasoning_tokens) == (300, 100)
    assert (call.session_id, call.agent_name, call.service_name) == (
        CONVERSATION,
        "codex",
        "codex_exec",
    )
    assert call.end_ns == OBSERVED_NS
    assert call.call_id.startswith("codex:")


def test_call_id_ignores_the_record_time_and_uses_event_timestamp() -> None:
    first = normalize_logs([_completed()]).calls[0]
    zero_time = normalize_logs([_completed(time_ns=0)]).calls[0]
    assert zero_time.call_id == first.call_id
    assert zero_time.end_ns == STAMP_NS
    other = normalize_logs([_completed({"event.timestamp": "2026-11-22T23:48:53.100Z"})])
    assert other.calls[0].call_id != first.call_id


@pytest.mark.parametrize(
    "attrs",
    [
        {"event.kind": "response.created"},
        {"event.kind": "response.output_text.delta"},
        {"event.name": "codex.api_request", "event.kind": None},
    ],
)
def test_other_sse_events_produce_nothing(attrs: dict) -> None:
    batch = normalize_logs([_completed(attrs)])
    assert (batch.calls, batch.rejections) == ([], [])


def test_response_completed_without_counts_produces_nothing() -> None:
    bare = log(
        {
            "event.name": "codex.sse_event",
            "event.kind": "response.completed",
            "duration_ms": "0",
            **COMMON,
        },
        resource=RESOURCE,
        scope=SCOPE,
    )
    batch = normalize_logs([bare])
    assert (batch.calls, batch.rejections) == ([], [])


def test_unusable_counts_are_rejected() -> None:
    batch = normalize_logs([_completed({"input_token_count": "12k"})])
    assert batch.calls == []
    assert batch.rejections[0].reason == (
        "input_token_count is '12k': token counts must be integers"
    )
    batch = normalize_logs([_completed({"model": None, "slug": None})])
    assert batch.rejections[0].reason == "missing model: set model"


def test_detected_by_scope_when_the_service_is_renamed() -> None:
    renamed = _completed()._replace(resource={"service.name": "my-codex-wrapper"})
    assert normalize_logs([renamed]).calls[0].dialect == "codex"


TURN_ATTRS: dict[str, Any] = {
    "thread.id": CONVERSATION,
    "turn.id": "01a205a9-a18e-72f0-a1c0-d13d00462624",
    "model": "gpt-5.1-codex",
    "codex.turn.token_usage.input_tokens": 1200,
    "codex.turn.token_usage.cached_input_tokens": 1000,
    "codex.turn.token_usage.cache_write_input_tokens": 0,
    "codex.turn.token_usage.non_cached_input_tokens": 200,
    "codex.turn.token_usage.output_tokens": 300,
    "codex.turn.token_usage.reasoning_output_tokens": 100,
    "codex.turn.token_usage.total_tokens": 1500,
}


def test_turn_span_is_an_aggregate_for_the_conversation() -> None:
    turn = span(
        "session_task.turn",
        TURN_ATTRS,
        resource=RESOURCE,
        scope="codex_exec",
        span_id="8290d01ff1677a37",
        parent="0872fd7720d932b7",
    )
    [call] = normalize_spans([turn]).calls
    assert (call.granularity, call.source, call.dialect) == (GRANULARITY_AGGREGATE, "span", "codex")
    assert (call.input_tokens, call.cache_read_tokens, call.output_tokens) == (200, 1000, 300)
    assert call.reasoning_tokens == 100
    assert call.session_id == CONVERSATION
    assert call.call_id.endswith(":8290d01ff1677a37")


def test_handle_responses_internals_and_other_spans_produce_nothing() -> None:
    handle = span(
        "handle_responses",
        {
            "thread.id": 3,
            "gen_ai.usage.input_tokens": 1200,
            "gen_ai.usage.cache_read.input_tokens": 1000,
            "gen_ai.usage.output_tokens": 300,
            "codex.usage.reasoning_output_tokens": 100,
        },
        resource=RESOURCE,
        scope="codex_exec",
        span_id="98fea3a4a6ef84be",
        parent="8290d01ff1677a37",
    )
    sampling = span(
        "try_run_sampling_request",
        {"model": "gpt-5.1-codex", "thread.id": 4},
        resource=RESOURCE,
        scope="codex_exec",
    )
    batch = normalize_spans([handle, sampling])
    assert (batch.calls, batch.rejections) == ([], [])
