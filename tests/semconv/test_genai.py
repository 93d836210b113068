"""Generic GenAI semconv (current + deprecated names) and OpenLLMetry spans and log events."""

from __future__ import annotations

from typing import Any

import pytest

from semconv.normalize import normalize_logs, normalize_spans
from semconv.records import GRANULARITY_CALL
from tests.semconv._records import END_NS, START_NS, TRACE_ID, log, span

CHAT_ATTRS: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.response.id": "chatcmpl-123",
    "gen_ai.conversation.id": "conv-9",
    "gen_ai.agent.name": "reviewer",
    "gen_ai.usage.input_tokens": 1000,
    "gen_ai.usage.cache_read.input_tokens": 200,
    "gen_ai.usage.cache_creation.input_tokens": 100,
    "gen_ai.usage.output_tokens": 300,
    "gen_ai.usage.reasoning.output_tokens": 50,
    "user.id": "u-42",
}


def test_current_semconv_chat_span_becomes_one_call_with_uncached_input() -> None:
    resource = {"service.name": "review-bot", "user.email": "dev@example.com"}
    batch = normalize_spans([span(attrs=CHAT_ATTRS, resource=resource)])

    assert batch.rejections == []
    [call] = batch.calls
    assert call.call_id == f"span:{TRACE_ID}:00f067aa0ba902b7"
    assert (call.granularity, call.source, call.dialect) == (GRANULARITY_CALL, "span", "genai")
    assert (call.provider, call.operation) == ("openai", "chat")
    assert (call.request_model, call.response_model) == ("gpt-4o", "gpt-4o-2024-08-06")
    assert call.model == "gpt-4o-2024-08-06"
    # input 1000 includes 200 cache reads and 100 cache writes
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (700, 200, 100)
    assert (call.output_tokens, call.reasoning_tokens) == (300, 50)
    assert (call.start_ns, call.end_ns) == (START_NS, END_NS)
    assert (call.session_id, call.agent_name, call.service_name) == (
        "conv-9",
        "reviewer",
        "review-bot",
    )
    assert call.user_hints == (("user.id", "u-42"), ("user.email", "dev@example.com"))
    assert call.client_cost_usd is None
    assert call.extra == {}


def test_cache_write_spelling_is_read() -> None:
    attrs = {**CHAT_ATTRS, "gen_ai.usage.cache_write.input_tokens": 100}
    del attrs["gen_ai.usage.cache_creation.input_tokens"]
    [call] = normalize_spans([span(attrs=attrs)]).calls
    assert (call.input_tokens, call.cache_write_tokens) == (700, 100)


def test_deprecated_names() -> None:
    attrs = {
        "gen_ai.system": "openai",
        "gen_ai.operation.name": "text_completion",
        "gen_ai.request.model": "gpt-3.5-turbo-instruct",
        "gen_ai.usage.prompt_tokens": 120,
        "gen_ai.usage.completion_tokens": 30,
    }
    [call] = normalize_spans([span("completions", attrs)]).calls
    assert (call.provider, call.operation, call.request_model) == (
        "openai",
        "text_completion",
        "gpt-3.5-turbo-instruct",
    )
    assert (call.input_tokens, call.output_tokens) == (120, 30)
    assert call.agent_name == "my-agent"  # no gen_ai.agent.name: the service name


def test_openllmetry_cache_names_and_request_type() -> None:
    attrs = {
        "llm.request.type": "chat",
        "gen_ai.system": "Anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        "gen_ai.usage.prompt_tokens": 7000,  # OpenLLMetry sums cache into the prompt
        "gen_ai.usage.cache_read_input_tokens": 5000,
        "gen_ai.usage.cache_creation_input_tokens": 800,
        "gen_ai.usage.completion_tokens": 300,
        "llm.usage.total_tokens": 7300,
    }
    [call] = normalize_spans([span("anthropic.chat", attrs)]).calls
    assert call.operation == "chat"
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (1200, 5000, 800)
    assert call.output_tokens == 300
    assert call.extra == {}


def test_anthropic_usage_passed_through_exclusive_is_detected_from_the_numbers() -> None:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-opus-4-1",
        "gen_ai.usage.input_tokens": 1200,  # raw Anthropic: excludes the cache below
        "gen_ai.usage.cache_read.input_tokens": 5000,
        "gen_ai.usage.cache_creation.input_tokens": 800,
        "gen_ai.usage.output_tokens": 300,
    }
    [call] = normalize_spans([span(attrs=attrs)]).calls
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (1200, 5000, 800)
    assert call.extra == {"input_rule": "exclusive_inferred"}


def test_anthropic_usage_that_fits_the_inclusive_rule_is_read_inclusively() -> None:
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-opus-4-1",
        "gen_ai.usage.input_tokens": 7000,
        "gen_ai.usage.cache_read.input_tokens": 5000,
        "gen_ai.usage.output_tokens": 300,
    }
    [call] = normalize_spans([span(attrs=attrs)]).calls
    assert (call.input_tokens, call.cache_read_tokens) == (2000, 5000)


def test_reasoning_larger_than_output_means_output_excluded_it() -> None:
    attrs = {
        **CHAT_ATTRS,
        "gen_ai.usage.output_tokens": 40,
        "gen_ai.usage.reasoning.output_tokens": 50,
    }
    [call] = normalize_spans([span(attrs=attrs)]).calls
    assert (call.output_tokens, call.reasoning_tokens) == (90, 50)
    assert call.extra == {"output_rule": "reasoning_added"}


def test_string_token_counts_are_accepted() -> None:
    attrs = {**CHAT_ATTRS, "gen_ai.usage.input_tokens": "1000", "gen_ai.usage.output_tokens": "300"}
    [call] = normalize_spans([span(attrs=attrs)]).calls
    assert (call.input_tokens, call.output_tokens) == (700, 300)


def test_embeddings_span() -> None:
    attrs = {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.request.model": "text-embedding-3-small",
        "gen_ai.usage.input_tokens": 512,
    }
    [call] = normalize_spans([span("embeddings text-embedding-3-small", attrs)]).calls
    assert (call.operation, call.input_tokens, call.output_tokens) == ("embeddings", 512, 0)


def test_span_without_operation_but_with_model_and_usage_is_a_call() -> None:
    attrs = {"gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 10}
    [call] = normalize_spans([span("custom llm", attrs)]).calls
    assert (call.operation, call.input_tokens) == ("", 10)


@pytest.mark.parametrize(
    "attrs",
    [
        {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 5},  # no model, no op
        {"gen_ai.request.model": "gpt-4o"},  # no op, no usage
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 10,
        },
        {"gen_ai.operation.name": "create_agent", "gen_ai.request.model": "gpt-4o"},
    ],
)
def test_spans_that_are_not_calls_produce_nothing_and_are_not_rejected(attrs: dict) -> None:
    batch = normalize_spans([span("step", attrs)])
    assert (batch.calls, batch.rejections) == ([], [])


def test_non_genai_span_produces_nothing() -> None:
    attrs = {"http.request.method": "GET", "url.full": "https://example.com", "llm": "no"}
    batch = normalize_spans([span("GET /", attrs)])
    assert (batch.calls, batch.rejections) == ([], [])


def _agent_trace() -> list:
    parent = span(
        "invoke_agent planner",
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "planner",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 3000,  # totals of the two children
            "gen_ai.usage.output_tokens": 500,
        },
        span_id="a000000000000001",
    )
    tool = span(
        "execute_tool search",
        {"gen_ai.operation.name": "execute_tool"},
        span_id="a000000000000004",
        parent="a000000000000001",
    )
    children = [
        span(
            "chat gpt-4o",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
            },
            span_id=span_id,
            parent=parent_id,
        )
        for span_id, parent_id, tokens_in, tokens_out in [
            ("a000000000000002", "a000000000000001", 1000, 200),
            ("a000000000000003", "a000000000000004", 2000, 300),
        ]
    ]
    return [children[0], parent, tool, children[1]]


def test_invoke_agent_parent_with_usage_totals_never_adds_a_call() -> None:
    batch = normalize_spans(_agent_trace())
    assert batch.rejections == []
    assert sorted((c.span_id, c.input_tokens, c.output_tokens) for c in batch.calls) == [
        ("a000000000000002", 1000, 200),
        ("a000000000000003", 2000, 300),
    ]
    # children without gen_ai.agent.name inherit the nearest agent ancestor's
    assert {c.agent_name for c in batch.calls} == {"planner"}


def test_a_chat_span_whose_child_is_a_chat_span_is_a_parent() -> None:
    wrapper = span("ChatOpenAI", {**CHAT_ATTRS}, span_id="b000000000000001")
    inner = span(
        "openai.chat", {**CHAT_ATTRS}, span_id="b000000000000002", parent="b000000000000001"
    )
    [call] = normalize_spans([wrapper, inner]).calls
    assert call.span_id == "b000000000000002"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (
            {"gen_ai.usage.input_tokens": -5},
            "gen_ai.usage.input_tokens is -5: token counts cannot be negative",
        ),
        (
            {"gen_ai.usage.output_tokens": 10**12},
            "gen_ai.usage.output_tokens is 1000000000000: above the limit",
        ),
        (
            {"gen_ai.usage.input_tokens": 12.5},
            "gen_ai.usage.input_tokens is 12.5: token counts must be integers",
        ),
        ({"gen_ai.usage.cache_read.input_tokens": "lots"}, "token counts must be integers"),
        (
            {"gen_ai.request.model": None, "gen_ai.response.model": ""},
            "missing model: set gen_ai.request.model or gen_ai.response.model",
        ),
    ],
)
def test_unusable_call_spans_are_rejected_with_a_reason(change: dict, reason: str) -> None:
    bad = span(attrs={**CHAT_ATTRS, **change}, span_id="c000000000000002")
    good = [span(attrs=CHAT_ATTRS, span_id=f"c00000000000000{i}") for i in (1, 3)]
    batch = normalize_spans([good[0], bad, good[1]])

    assert [r.index for r in batch.rejections] == [1]
    assert reason in batch.rejections[0].reason
    assert [c.span_id for c in batch.calls] == ["c000000000000001", "c000000000000003"]


def test_parent_span_with_bad_totals_is_not_rejected() -> None:
    attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": -1}
    batch = normalize_spans([span("invoke_agent x", attrs)])
    assert (batch.calls, batch.rejections) == ([], [])


INFERENCE_EVENT: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.usage.input_tokens": 900,
    "gen_ai.usage.cache_read.input_tokens": 100,
    "gen_ai.usage.output_tokens": 80,
    "duration_ms": 25,
}


def _event(**overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "attrs": dict(INFERENCE_EVENT),
        "event_name": "gen_ai.client.inference.operation.details",
        "trace_id": TRACE_ID,
        "span_id": "00f067aa0ba902b7",
    }
    fields.update(overrides)
    return log(**fields)


def test_genai_inference_event_log_is_the_call_of_its_span() -> None:
    [call] = normalize_logs([_event()]).calls
    assert (call.source, call.dialect, call.operation) == ("log", "genai", "chat")
    assert (call.input_tokens, call.cache_read_tokens, call.output_tokens) == (800, 100, 80)
    assert (call.start_ns, call.end_ns) == (END_NS - 25_000_000, END_NS)
    # the event is emitted in its span's context: same id as the span's call, counted once
    [from_span] = normalize_spans([span(attrs=INFERENCE_EVENT)]).calls
    assert call.call_id == from_span.call_id == f"span:{TRACE_ID}:00f067aa0ba902b7"


def test_usage_less_span_and_its_details_event_are_one_call() -> None:
    # e.g. a stream without usage: the span has none, util-genai's event has it (or the
    # reverse); the store keeps one row for the id, whichever description arrives first.
    no_usage = {k: v for k, v in INFERENCE_EVENT.items() if not k.startswith("gen_ai.usage.")}
    [from_span] = normalize_spans([span(attrs=no_usage)]).calls
    [from_log] = normalize_logs([_event()]).calls
    assert from_span.call_id == from_log.call_id
    assert from_span.extra == {"usage": "missing"} and from_log.extra == {}


def test_genai_event_outside_a_span_has_a_deterministic_log_id() -> None:
    [call] = normalize_logs([_event(trace_id="", span_id="")]).calls
    assert call.call_id.startswith("log:")
    # a resend maps to the same id; another event at another time does not
    assert normalize_logs([_event(trace_id="", span_id="")]).calls[0].call_id == call.call_id
    moved = _event(trace_id="", span_id="", time_ns=END_NS + 1)
    assert normalize_logs([moved]).calls[0].call_id != call.call_id


def test_other_events_keep_a_log_id_inside_a_span() -> None:
    [call] = normalize_logs([_event(event_name="gen_ai.choice")]).calls
    assert call.call_id.startswith("log:")


def test_genai_event_without_usage_produces_nothing() -> None:
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o"}
    batch = normalize_logs([_event(attrs=attrs)])
    assert (batch.calls, batch.rejections) == ([], [])


def test_genai_event_without_model_is_rejected() -> None:
    attrs = {k: v for k, v in INFERENCE_EVENT.items() if k != "gen_ai.request.model"}
    batch = normalize_logs([log(body="x"), _event(attrs=attrs)])
    assert batch.calls == []
    assert [(r.index, r.reason) for r in batch.rejections] == [
        (1, "missing model: set gen_ai.request.model or gen_ai.response.model")
    ]


def test_plain_application_log_produces_nothing() -> None:
    batch = normalize_logs([log({"http.route": "/"}, body="request served")])
    assert (batch.calls, batch.rejections) == ([], [])
