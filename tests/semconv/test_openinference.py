"""OpenInference (Arize Phoenix) spans."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from semconv.normalize import normalize_spans
from tests.semconv._records import span

LLM_ATTRS: dict[str, Any] = {
    "openinference.span.kind": "LLM",
    "llm.model_name": "gpt-4o-2024-08-06",
    "llm.provider": "openai",
    "llm.system": "openai",
    "llm.token_count.prompt": 1000,  # includes the cache details below
    "llm.token_count.prompt_details.cache_read": 600,
    "llm.token_count.prompt_details.cache_write": 100,
    "llm.token_count.completion": 200,
    "llm.token_count.completion_details.reasoning": 50,
    "llm.token_count.total": 1200,
    "llm.cost.total": 0.0123,
    "session.id": "sess-1",
    "user.id": "u-1",
}


def test_llm_span_becomes_a_call_with_uncached_input_and_client_cost() -> None:
    batch = normalize_spans([span("ChatCompletion", LLM_ATTRS)])
    assert batch.rejections == []
    [call] = batch.calls
    assert (call.dialect, call.provider, call.operation) == ("openinference", "openai", "chat")
    assert call.model == "gpt-4o-2024-08-06"
    assert (call.input_tokens, call.cache_read_tokens, call.cache_write_tokens) == (300, 600, 100)
    assert (call.output_tokens, call.reasoning_tokens) == (200, 50)
    assert call.client_cost_usd == Decimal("0.0123")
    assert (call.session_id, call.user_hints) == ("sess-1", (("user.id", "u-1"),))


def test_provider_falls_back_to_llm_system() -> None:
    attrs = {k: v for k, v in LLM_ATTRS.items() if k != "llm.provider"}
    attrs["llm.system"] = "anthropic"
    [call] = normalize_spans([span("llm", attrs)]).calls
    assert call.provider == "anthropic"


@pytest.mark.parametrize("kind", ["CHAIN", "AGENT", "TOOL", "RETRIEVER"])
def test_non_llm_kinds_with_token_totals_produce_nothing(kind: str) -> None:
    batch = normalize_spans([span("agent", {**LLM_ATTRS, "openinference.span.kind": kind})])
    assert (batch.calls, batch.rejections) == ([], [])


def test_embedding_span_counts_only_with_token_counts() -> None:
    attrs = {
        "openinference.span.kind": "EMBEDDING",
        "embedding.model_name": "text-embedding-3-small",
        "llm.token_count.prompt": 64,
    }
    [call] = normalize_spans([span("embed", attrs)]).calls
    assert (call.operation, call.request_model, call.input_tokens) == (
        "embeddings",
        "text-embedding-3-small",
        64,
    )
    del attrs["llm.token_count.prompt"]
    assert normalize_spans([span("embed", attrs)]).calls == []


def test_llm_span_without_model_is_rejected() -> None:
    attrs = {k: v for k, v in LLM_ATTRS.items() if k != "llm.model_name"}
    batch = normalize_spans([span("llm", attrs)])
    assert batch.calls == []
    assert [(r.index, r.reason) for r in batch.rejections] == [
        (0, "missing model: set llm.model_name")
    ]


def test_negative_prompt_count_is_rejected() -> None:
    batch = normalize_spans([span("llm", {**LLM_ATTRS, "llm.token_count.prompt": -3})])
    assert "llm.token_count.prompt is -3" in batch.rejections[0].reason


def test_framework_llm_span_wrapping_a_provider_llm_span_counts_once() -> None:
    outer = span("ChatOpenAI", LLM_ATTRS, span_id="d000000000000001")
    inner = span("OpenAI.chat", LLM_ATTRS, span_id="d000000000000002", parent="d000000000000001")
    assert [c.span_id for c in normalize_spans([outer, inner]).calls] == ["d000000000000002"]
