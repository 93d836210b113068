"""Anthropic SDK calls, official instrumentations (counted once), ancestry, content capture."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import anthropic
import httpx
import pytest

from collector_processor.pricing.catalog import GenaiPricesCatalog
from collector_processor.pricing.engine import Pricer
from semconv.instrumentation import SCOPE_NAME
from semconv.normalize import normalize_spans
from tests.otelspend.standin_bodies import AnthropicUsage
from tests.otelspend.standin_upstream import StandinUpstream
from tests.semconv._instrumented import (
    Traced,
    official_openai,
    span_record,
    traced,
    traced_process,
    upstream,
    usage,
)

__all__ = ["traced", "upstream"]  # fixtures
pytestmark = pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")
# Anthropic reports input 1200 EXCLUDING cache read 5000 and write 800: the span says 7000.
ANTHROPIC_USAGE = (7000, 300, 5000, 800, None)
MESSAGES = [{"role": "user", "content": "say hi"}]


def _client(up: StandinUpstream) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=up.url, api_key="sk-ant-test", max_retries=0)


def test_messages_create_and_stream(traced: Traced, upstream: StandinUpstream) -> None:
    client = _client(upstream)
    reply = client.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES)
    assert reply.content[0].text == "Hi! How can I help?"  # type: ignore[union-attr]
    with client.messages.stream(
        model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES
    ) as stream:
        assert "".join(stream.text_stream) == "Hi! How can I help?"
    plain, streamed = traced.genai()
    for span in (plain, streamed):
        attrs = dict(span.attributes or {})
        assert attrs["gen_ai.provider.name"] == "anthropic"
        assert attrs["gen_ai.request.max_tokens"] == 64
        assert attrs["gen_ai.response.finish_reasons"] == ("end_turn",)
        assert attrs["gen_ai.response.id"].startswith("msg_standin")
        assert usage(attrs) == ANTHROPIC_USAGE
    assert streamed.attributes["gen_ai.request.stream"] is True


def test_async_stream_and_one_hour_cache_writes(traced: Traced) -> None:
    split = AnthropicUsage(cache_creation_input_tokens=800, cache_creation_1h_input_tokens=300)
    with StandinUpstream(anthropic=split) as up:

        async def run() -> None:
            client = anthropic.AsyncAnthropic(base_url=up.url, api_key="x", max_retries=0)
            events = await client.messages.create(
                model="claude-sonnet-4-5", max_tokens=64, messages=MESSAGES, stream=True
            )
            async for _ in events:
                pass

        asyncio.run(run())
    attrs = traced.one()
    assert usage(attrs) == ANTHROPIC_USAGE
    assert attrs["gen_ai.usage.cache_creation.1h.input_tokens"] == 300

    # The normalizer reads the 1-hour part back and pricing charges its rate.  Sonnet 4.5:
    # $3 in, $0.30 cache read, $3.75 5-minute write, $6 1-hour write, $15 out per MTok:
    # 1200x3 + 5000x0.30 + 500x3.75 + 300x6 + 300x15 = 3600 + 1500 + 1875 + 1800 + 4500
    # = 13275 micro-USD (12600 if every write were a 5-minute one).
    [call] = normalize_spans([span_record(traced.genai()[0])]).calls
    assert (call.input_tokens, call.cache_read_tokens, call.output_tokens) == (1200, 5000, 300)
    assert (call.cache_write_tokens, call.cache_write_1h_tokens) == (800, 300)
    assert Pricer(GenaiPricesCatalog()).price(call).cost_nanousd == 13_275_000


def test_abandoned_stream_keeps_what_was_reported(traced: Traced) -> None:
    with StandinUpstream(gate_streams=True) as up, httpx.Client(base_url=up.url) as client:
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": MESSAGES,
            "stream": True,
        }
        with client.stream("POST", "/v1/messages", json=body) as response:
            for line in response.iter_lines():
                if "text_delta" in line:
                    break  # the caller walks away mid-stream
        up.release()
    attrs = traced.one()
    assert attrs["otelspend.stream.incomplete"] is True
    # message_start reported input and cache; output so far is message_start's 1 token.
    assert usage(attrs) == (7000, 1, 5000, 800, None)


def test_official_openai_instrumentation_is_not_counted_twice(
    traced: Traced, upstream: StandinUpstream
) -> None:
    with official_openai(traced, upstream) as client:
        client.chat.completions.create(model="gpt-5.1", messages=MESSAGES)
        stream = client.chat.completions.create(
            model="gpt-5.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        list(stream)
    spans = traced.genai()
    assert len(spans) == 2  # one per call: openai-v2's, ours stood aside
    assert SCOPE_NAME not in {s.instrumentation_scope.name for s in spans}
    assert {s.attributes["gen_ai.usage.input_tokens"] for s in spans} == {1200}


def test_call_inside_an_agent_span_is_its_sibling_and_inherits_the_agent(
    traced: Traced, upstream: StandinUpstream
) -> None:
    tracer = traced.provider.get_tracer("app")
    with tracer.start_as_current_span(
        "invoke_agent planner",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"},
    ) as agent:
        _client(upstream).messages.create(
            model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES
        )
    call = next(s for s in traced.genai() if s.name.startswith("chat"))
    assert call.parent is not None and call.parent.span_id == agent.get_span_context().span_id
    assert call.attributes["gen_ai.agent.name"] == "planner"


def test_content_is_captured_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstream: StandinUpstream
) -> None:
    for t in traced_process(tmp_path, monkeypatch):
        _client(upstream).messages.create(
            model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES
        )
        attrs = t.one()
        assert not {"gen_ai.input.messages", "gen_ai.output.messages"} & set(attrs)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    for t in traced_process(tmp_path, monkeypatch, capture_content=True):
        with _client(upstream).messages.stream(
            model="claude-sonnet-4-5", max_tokens=8, messages=MESSAGES, system="be brief"
        ) as stream:
            stream.until_done()
        attrs = t.one()
        assert json.loads(attrs["gen_ai.input.messages"]) == [
            {"role": "system", "content": "be brief"},
            *MESSAGES,
        ]
        output = json.loads(attrs["gen_ai.output.messages"])
        assert output[0]["parts"][0]["content"] == "Hi! How can I help?"
