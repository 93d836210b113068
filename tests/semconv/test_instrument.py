"""semconv.instrument() with the real openai SDK (httpx2) and raw httpx against the stand-in."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import openai
import pytest

from tests.otelspend.standin_upstream import StandinUpstream
from tests.semconv._instrumented import Traced, traced, traced_process, upstream, usage

__all__ = ["traced", "upstream"]  # fixtures
OPENAI_USAGE = (1200, 300, 1000, None, 100)  # the stand-in's default OpenAI usage
MESSAGES = [{"role": "user", "content": "say hi"}]


def _client(up: StandinUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{up.url}/v1", api_key="sk-test", max_retries=0)


def test_chat_completion_becomes_one_genai_span(traced: Traced, upstream: StandinUpstream) -> None:
    reply = _client(upstream).chat.completions.create(
        model="gpt-5.1", messages=MESSAGES, max_completion_tokens=50, temperature=0.2
    )
    assert reply.choices[0].message.content == "Hi! How can I help?"
    attrs = traced.one()
    assert {k: attrs[k] for k in attrs if not k.startswith(("server.", "gen_ai.usage"))} == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-5.1",
        "gen_ai.request.stream": False,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.response.model": "gpt-5.1",
        "gen_ai.response.id": attrs["gen_ai.response.id"],
        "gen_ai.response.finish_reasons": ("stop",),
    }
    assert attrs["gen_ai.response.id"].startswith("chatcmpl-standin")
    assert usage(attrs) == OPENAI_USAGE
    assert (attrs["server.address"], attrs["server.port"]) == ("127.0.0.1", upstream.port)


def test_only_genai_spans_are_exported(traced: Traced, upstream: StandinUpstream) -> None:
    _client(upstream).models.list()  # an HTTP call that is no model call
    _client(upstream).chat.completions.create(model="gpt-5.1", messages=MESSAGES)
    traced.inst.force_flush()
    names = [s.name for s in traced.exported.get_finished_spans()]
    assert names == ["chat gpt-5.1"]  # the HTTP spans stay in the application


def test_chat_stream_with_include_usage(traced: Traced, upstream: StandinUpstream) -> None:
    stream = _client(upstream).chat.completions.create(
        model="gpt-5.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hi! How can I help?"
    attrs = traced.one()
    assert attrs["gen_ai.request.stream"] is True
    assert usage(attrs) == OPENAI_USAGE
    assert "otelspend.stream.incomplete" not in attrs
    assert attrs["gen_ai.response.time_to_first_chunk"] >= 0


def test_chat_stream_without_usage_says_so(traced: Traced, upstream: StandinUpstream) -> None:
    stream = _client(upstream).chat.completions.create(
        model="gpt-5.1", messages=MESSAGES, stream=True
    )
    assert len(list(stream)) > 2
    attrs = traced.one()
    assert usage(attrs) == (None,) * 5
    assert attrs["otelspend.usage.missing"] is True


def test_inject_stream_usage_is_opt_in_and_keeps_the_sdk_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstream: StandinUpstream
) -> None:
    for t in traced_process(tmp_path, monkeypatch, inject_stream_usage=True):
        stream = _client(upstream).chat.completions.create(
            model="gpt-5.1", messages=MESSAGES, stream=True
        )
        chunks = list(stream)
        assert chunks[-1].choices == [] and chunks[-1].usage is not None
        assert usage(t.one()) == OPENAI_USAGE
    sent = upstream.model_calls()[-1].body
    assert sent["stream_options"] == {"include_usage": True}


def test_responses_api_plain_stream_and_async(traced: Traced, upstream: StandinUpstream) -> None:
    client = _client(upstream)
    assert client.responses.create(model="gpt-5.1-codex", input="hi").output_text
    with client.responses.stream(model="gpt-5.1-codex", input="hi") as stream:
        assert stream.get_final_response().usage is not None

    async def run() -> None:
        aclient = openai.AsyncOpenAI(base_url=f"{upstream.url}/v1", api_key="x", max_retries=0)
        events = await aclient.responses.create(model="gpt-5.1-codex", input="hi", stream=True)
        async for _ in events:
            pass

    asyncio.run(run())
    spans = traced.genai()
    assert [s.attributes["gen_ai.request.stream"] for s in spans] == [False, True, True]
    for span in spans:
        attrs = dict(span.attributes or {})
        assert usage(attrs) == OPENAI_USAGE
        assert attrs["gen_ai.response.finish_reasons"] == ("completed",)


def test_async_chat_stream(traced: Traced, upstream: StandinUpstream) -> None:
    async def run() -> str:
        client = openai.AsyncOpenAI(base_url=f"{upstream.url}/v1", api_key="x", max_retries=0)
        stream = await client.chat.completions.create(
            model="gpt-5.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    assert asyncio.run(run()) == "Hi! How can I help?"
    assert usage(traced.one()) == OPENAI_USAGE


def test_stream_reaches_the_caller_before_it_ends(traced: Traced) -> None:
    with StandinUpstream(gate_streams=True) as up:
        stream = _client(up).chat.completions.create(
            model="gpt-5.1", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        first: list[str] = []
        reader = threading.Thread(
            target=lambda: first.extend(
                c.choices[0].delta.content
                for c in stream
                if c.choices and c.choices[0].delta.content
            )
        )
        reader.start()
        # The upstream holds the rest of the stream until release(): the caller must already
        # have the first words, so nothing between the SDK and the socket buffers the body.
        for _ in range(200):
            if first:
                break
            threading.Event().wait(0.05)
        assert first == ["Hi! "]
        assert traced.genai() == []  # the call is still running
        up.release()
        reader.join(30)
    assert "".join(first) == "Hi! How can I help?"
    assert usage(traced.one()) == OPENAI_USAGE


def test_http_error_gives_an_error_span_without_usage(
    traced: Traced, upstream: StandinUpstream
) -> None:
    with pytest.raises(openai.RateLimitError):
        _client(upstream).chat.completions.create(model="http-429", messages=MESSAGES)
    span = traced.genai()[0]
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "429"
    assert "gen_ai.usage.input_tokens" not in span.attributes


def test_non_model_requests_make_no_span(traced: Traced, upstream: StandinUpstream) -> None:
    with httpx.Client(base_url=upstream.url) as client:
        client.post("/v1/threads/t1/messages", json={"role": "user", "content": "hi"})
        client.post("/v1/messages/count_tokens", json={"model": "m", "messages": []})
        client.get("/v1/models")
    assert traced.genai() == []


def test_gzip_body_is_read(traced: Traced) -> None:
    with StandinUpstream(compress=True) as up:
        _client(up).chat.completions.create(model="gpt-5.1", messages=MESSAGES)
        assert up.requests[-1].headers.get("Accept-Encoding")
    assert usage(traced.one()) == OPENAI_USAGE


def test_gemini_over_raw_httpx_plain_and_sse(traced: Traced, upstream: StandinUpstream) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    with httpx.Client(base_url=upstream.url) as client:
        path = "/v1beta/models/gemini-2.5-flash"
        assert client.post(f"{path}:generateContent", json=body).status_code == 200
        with client.stream("POST", f"{path}:streamGenerateContent?alt=sse", json=body) as r:
            assert sum(1 for _ in r.iter_lines()) > 2
    plain, streamed = traced.genai()
    for span, stream in ((plain, False), (streamed, True)):
        attrs = dict(span.attributes or {})
        assert span.name == "generate_content gemini-2.5-flash"
        assert attrs["gen_ai.provider.name"] == "gcp.gemini"
        assert attrs["gen_ai.request.stream"] is stream
        # prompt 1200 incl. 1000 cached; output = candidates 300 + thoughts 100
        assert usage(attrs) == (1200, 400, 1000, None, 100)
        assert attrs["gen_ai.response.finish_reasons"] == ("STOP",)
