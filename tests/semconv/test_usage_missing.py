"""Model-call spans that report no token counts: a call of unknown cost, never a $0 call.

The first payloads come from real instrumentations (the official openai-v2 one and
otelspend's own) calling the stand-in OpenAI API; the others are shaped like what OpenLLMetry,
OpenLIT and OpenInference export.  A usage-less span and the inference-details event of the
same call are one call: see test_genai.py.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from semconv.dialects.usage import USAGE_KEY, USAGE_MISSING, usage_missing
from semconv.normalize import normalize_spans
from semconv.records import STATUS_ERROR, STATUS_OK, STATUS_UNSET, LlmCall, SpanRecord
from tests.otelspend.standin_upstream import StandinUpstream
from tests.semconv._instrumented import Traced, official_openai, span_record, traced, upstream
from tests.semconv._records import TRACE_ID, span

__all__ = ["traced", "upstream"]  # fixtures
MESSAGES = [{"role": "user", "content": "say hi"}]


def _no_tokens(call: LlmCall) -> bool:
    # cache_write_1h is part of cache_write, reasoning part of output
    return (call.total_input_tokens, call.output_tokens) == (0, 0)


def _nothing(record: SpanRecord) -> bool:
    batch = normalize_spans([record])
    return (batch.calls, batch.rejections) == ([], [])


def test_official_openai_stream_without_usage_is_a_call_of_unknown_cost(
    traced: Traced, upstream: StandinUpstream
) -> None:
    with official_openai(traced, upstream) as client:
        # No stream_options.include_usage: OpenAI sends no usage, the span has none.
        list(client.chat.completions.create(model="gpt-5.1", messages=MESSAGES, stream=True))
    [exported] = traced.genai()
    assert not any(k.startswith("gen_ai.usage.") for k in exported.attributes or {})

    batch = normalize_spans([span_record(exported)])
    assert batch.rejections == []
    [call] = batch.calls
    assert (call.operation, call.provider, call.model) == ("chat", "openai", "gpt-5.1")
    assert _no_tokens(call)
    assert call.extra == {USAGE_KEY: USAGE_MISSING}
    assert usage_missing(call.extra)


def test_official_openai_failed_request_is_no_call(
    traced: Traced, upstream: StandinUpstream
) -> None:
    with official_openai(traced, upstream) as client, pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="http-429", messages=MESSAGES)
    [exported] = traced.genai()
    record = span_record(exported)
    assert record.status_code == STATUS_ERROR and "error.type" in record.attributes
    assert _nothing(record)


def test_otelspend_instrumentation_usage_missing_span_is_flagged(
    traced: Traced, upstream: StandinUpstream
) -> None:
    client = openai.OpenAI(base_url=f"{upstream.url}/v1", api_key="x", max_retries=0)
    list(client.chat.completions.create(model="gpt-5.1", messages=MESSAGES, stream=True))
    [exported] = traced.genai()
    assert (exported.attributes or {})["otelspend.usage.missing"] is True

    [call] = normalize_spans([span_record(exported)]).calls
    assert _no_tokens(call) and usage_missing(call.extra)


# Shaped like OpenLLMetry's openai instrumentation: llm.request.type, deprecated gen_ai.system.
OPENLLMETRY_CHAT: dict[str, Any] = {
    "llm.request.type": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "llm.is_streaming": True,
    "gen_ai.openai.api_base": "https://api.openai.com/v1/",
}


@pytest.mark.parametrize(
    ("attrs", "status"),
    [
        pytest.param(OPENLLMETRY_CHAT, STATUS_OK, id="openllmetry-chat"),
        pytest.param(
            {
                "gen_ai.operation.name": "embeddings",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "text-embedding-3-small",
            },
            STATUS_UNSET,
            id="semconv-embeddings",
        ),
        pytest.param(
            {
                "gen_ai.operation.name": "generate_content",
                "gen_ai.provider.name": "gcp.gemini",
                "gen_ai.request.model": "gemini-2.5-flash",
            },
            STATUS_UNSET,
            id="semconv-generate-content",
        ),
    ],
)
def test_call_spans_without_usage_are_flagged(attrs: dict[str, Any], status: int) -> None:
    record = span(attrs=attrs)._replace(status_code=status)
    batch = normalize_spans([record])
    assert batch.rejections == []
    [call] = batch.calls
    assert call.call_id == f"span:{TRACE_ID}:00f067aa0ba902b7"
    assert _no_tokens(call) and usage_missing(call.extra)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({}, STATUS_ERROR),
        ({"error.type": "openai.APITimeoutError"}, STATUS_UNSET),
    ],
)
def test_failed_call_span_without_usage_is_no_call(change: dict[str, Any], status: int) -> None:
    assert _nothing(span(attrs={**OPENLLMETRY_CHAT, **change})._replace(status_code=status))


def test_failed_call_span_with_usage_is_still_billed() -> None:
    attrs = {**OPENLLMETRY_CHAT, "gen_ai.usage.input_tokens": 900, "gen_ai.usage.output_tokens": 12}
    record = span(attrs=attrs)._replace(status_code=STATUS_ERROR)  # e.g. a stream cut short
    [call] = normalize_spans([record]).calls
    assert (call.input_tokens, call.output_tokens, call.extra) == (900, 12, {})


def test_span_without_operation_or_usage_is_still_no_call() -> None:
    assert _nothing(span(attrs={"gen_ai.request.model": "gpt-4o"}))


def test_openlit_call_without_usage_is_flagged_and_keeps_no_cost() -> None:
    resource = {"service.name": "app", "telemetry.sdk.name": "openlit"}
    attrs = {"gen_ai.operation.name": "chat", "gen_ai.system": "anthropic",
             "gen_ai.request.model": "claude-sonnet-4-5"}  # fmt: skip
    [call] = normalize_spans([span(attrs=attrs, resource=resource)]).calls
    assert call.dialect == "openlit"
    assert usage_missing(call.extra) and call.client_cost_usd is None


# Shaped like OpenInference's langchain instrumentation on a streamed call without usage.
OPENINFERENCE_LLM: dict[str, Any] = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o-mini",
    "llm.provider": "openai",
    "llm.system": "openai",
    "llm.invocation_parameters": '{"model": "gpt-4o-mini", "stream": true}',
    "input.value": '{"messages": [{"role": "user", "content": "say hi"}]}',
    "input.mime_type": "application/json",
}


def test_openinference_llm_span_without_counts_is_flagged() -> None:
    [call] = normalize_spans([span("ChatOpenAI", OPENINFERENCE_LLM)]).calls
    assert (call.dialect, call.operation, call.model) == ("openinference", "chat", "gpt-4o-mini")
    assert _no_tokens(call) and usage_missing(call.extra)


def test_openinference_failed_llm_span_without_counts_is_no_call() -> None:
    record = span("ChatOpenAI", OPENINFERENCE_LLM)._replace(status_code=STATUS_ERROR)
    assert normalize_spans([record]).calls == []


def test_openinference_embedding_span_without_counts_is_still_no_call() -> None:
    attrs = {
        "openinference.span.kind": "EMBEDDING",
        "embedding.model_name": "text-embedding-3-small",
    }
    assert normalize_spans([span("OpenAIEmbeddings", attrs)]).calls == []


# --- counted once -------------------------------------------------------------------------


def test_usage_less_wrapper_of_a_call_with_usage_adds_nothing() -> None:
    # OpenLLMetry's langchain span around openai's span, exported in one batch.
    wrapper = span("ChatOpenAI.chat", OPENLLMETRY_CHAT, span_id="d000000000000001")
    inner = span(
        "openai.chat",
        {**OPENLLMETRY_CHAT, "gen_ai.usage.input_tokens": 40, "gen_ai.usage.output_tokens": 2},
        span_id="d000000000000002",
        parent="d000000000000001",
    )
    [call] = normalize_spans([wrapper, inner]).calls
    assert (call.span_id, call.input_tokens, call.extra) == ("d000000000000002", 40, {})
