"""Gemini CLI: api_response events and their GenAI semconv twin describe one call."""

from __future__ import annotations

from typing import Any

import pytest

from semconv.normalize import normalize_logs, normalize_spans
from semconv.records import GRANULARITY_CALL
from tests.semconv._records import END_NS, log, span

RESOURCE = {"service.name": "gemini-cli", "service.version": "0.19.1"}
COMMON = {
    "session.id": "5a1b7c3e-gem",
    "installation.id": "inst-1",
    "user.email": "dev@example.com",
    "event.timestamp": "2026-11-22T23:48:45.712Z",
}


def _api_response(**attrs: Any) -> Any:
    fields = {
        **COMMON,
        "event.name": "gemini_cli.api_response",
        "model": "gemini-2.5-pro",
        "duration_ms": 1800,
        "status_code": 200,
        "prompt_id": "p-1",
        "input_token_count": 10_000,
        "output_token_count": 400,
        "cached_content_token_count": 6_000,
        "thoughts_token_count": 900,
        "tool_token_count": 0,
        "total_token_count": 11_300,
        **attrs,
    }
    return log(
        fields,
        body="API response from gemini-2.5-pro. Status: 200. Duration: 1800ms.",
        resource=RESOURCE,
        scope="gemini-cli",
    )


def _details(**attrs: Any) -> Any:
    fields = {
        **COMMON,
        "event.name": "gen_ai.client.inference.operation.details",
        "gen_ai.operation.name": "generate_content",
        "gen_ai.provider.name": "gcp.gen_ai",
        "gen_ai.request.model": "gemini-2.5-pro",
        "gen_ai.response.model": "gemini-2.5-pro",
        "gen_ai.usage.input_tokens": 10_000,
        "gen_ai.usage.output_tokens": 400,
        **attrs,
    }
    return log(fields, resource=RESOURCE, scope="gemini-cli", time_ns=END_NS + 1000)


def test_api_response_splits_cache_and_adds_thoughts_to_output() -> None:
    batch = normalize_logs([_api_response()])
    assert batch.rejections == []
    [call] = batch.calls
    assert (call.granularity, call.dialect, call.provider, call.operation) == (
        GRANULARITY_CALL,
        "gemini_cli",
        "google",
        "generate_content",
    )
    # prompt 10000 includes 6000 cached; thoughts (900) are outside the candidates count (400)
    assert (call.input_tokens, call.cache_read_tokens) == (4_000, 6_000)
    assert (call.output_tokens, call.reasoning_tokens) == (1_300, 900)
    assert (call.session_id, call.agent_name) == ("5a1b7c3e-gem", "gemini-cli")
    assert call.user_hints == (("user.email", "dev@example.com"),)
    assert (call.start_ns, call.end_ns) == (END_NS - 1_800_000_000, END_NS)


@pytest.mark.parametrize(
    ("tool", "total", "expected_input"),
    [(250, 11_550, 4_250), (250, 11_300, 4_000)],  # added only when the total confirms it
)
def test_tool_use_prompt_tokens(tool: int, total: int, expected_input: int) -> None:
    batch = normalize_logs([_api_response(tool_token_count=tool, total_token_count=total)])
    assert batch.calls[0].input_tokens == expected_input


def test_details_event_shares_the_call_id_of_its_api_response() -> None:
    response, details = normalize_logs([_api_response(), _details()]).calls
    assert details.call_id == response.call_id
    assert details.extra == {"usage_breakdown": "partial"}
    assert response.extra == {}
    assert (details.input_tokens, details.output_tokens) == (10_000, 400)
    assert details.provider == "google"


def test_details_event_of_another_response_gets_another_id() -> None:
    response = normalize_logs([_api_response()]).calls[0]
    other = normalize_logs([_details(**{"gen_ai.usage.output_tokens": 401})]).calls[0]
    assert other.call_id != response.call_id


def test_request_and_error_details_events_produce_nothing() -> None:
    request = _details(**{"gen_ai.usage.input_tokens": None, "gen_ai.usage.output_tokens": None})
    prompt = log(
        {**COMMON, "event.name": "gemini_cli.user_prompt", "prompt_length": 6}, resource=RESOURCE
    )
    batch = normalize_logs([request, prompt])
    assert (batch.calls, batch.rejections) == ([], [])


def test_detected_by_event_name_on_another_service() -> None:
    renamed = log(dict(_api_response().attributes), resource={"service.name": "ide"})
    assert normalize_logs([renamed]).calls[0].dialect == "gemini_cli"


def test_unusable_api_response_is_rejected() -> None:
    batch = normalize_logs([_api_response(thoughts_token_count=-1), _api_response(model="")])
    assert [r.index for r in batch.rejections] == [0, 1]
    assert "thoughts_token_count is -1" in batch.rejections[0].reason
    assert batch.rejections[1].reason.startswith("missing model")


def test_gemini_cli_spans_never_bill() -> None:
    attrs = {
        "gen_ai.operation.name": "generate_content",
        "gen_ai.request.model": "gemini-2.5-pro",
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 5,
    }
    batch = normalize_spans([span("llm_call", attrs, resource=RESOURCE)])
    assert (batch.calls, batch.rejections) == ([], [])
