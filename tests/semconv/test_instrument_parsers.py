"""Pure parts of the agent instrumentation: endpoints, usage rules, SSE, bodies, settings."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from semconv.instrumentation import ClientSettings, resolve_settings
from semconv.providers import CallFacts, Endpoint, match_endpoint
from semconv.providers import anthropic as anthropic_api
from semconv.providers import gemini as gemini_api
from semconv.providers import openai as openai_api
from semconv.streams import JsonCollector, SseDecoder, content_decoder


@pytest.mark.parametrize(
    ("method", "host", "path", "expected"),
    [
        ("POST", "api.openai.com", "/v1/chat/completions", ("openai", "openai", "chat")),
        ("POST", "api.openai.com", "/v1/responses", ("openai_responses", "openai", "chat")),
        ("POST", "api.openai.com", "/v1/completions", ("openai", "openai", "text_completion")),
        ("POST", "api.openai.com", "/v1/embeddings", ("openai", "openai", "embeddings")),
        (
            "POST",
            "x.openai.azure.com",
            "/openai/deployments/d/chat/completions",
            ("openai", "azure.ai.openai", "chat"),
        ),
        ("POST", "api.groq.com", "/openai/v1/chat/completions", ("openai", "groq", "chat")),
        ("POST", "api.anthropic.com", "/v1/messages", ("anthropic", "anthropic", "chat")),
        (
            "POST",
            "generativelanguage.googleapis.com",
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            ("gemini", "gcp.gemini", "generate_content"),
        ),
        (
            "POST",
            "us-central1-aiplatform.googleapis.com",
            "/v1/projects/p/locations/l/publishers/google/models/gemini-2.5-pro:generateContent",
            ("gemini", "gcp.vertex_ai", "generate_content"),
        ),
        ("GET", "api.openai.com", "/v1/chat/completions", None),
        ("POST", "api.anthropic.com", "/v1/messages/count_tokens", None),
        ("POST", "example.com", "/v1/traces", None),
    ],
)
def test_endpoints(method: str, host: str, path: str, expected: tuple[str, ...] | None) -> None:
    found = match_endpoint(method, host, path)
    assert (found and (found.api, found.provider, found.operation)) == (expected or None)


def _facts(api: str) -> CallFacts:
    return CallFacts(Endpoint(api, "p", "chat", "gemini-2.5-pro"))


def _usage(f: CallFacts) -> tuple[Any, ...]:
    return (
        f.input_tokens,
        f.output_tokens,
        f.cache_read_tokens,
        f.cache_write_tokens,
        f.reasoning_tokens,
    )


def test_openai_embeddings_have_no_output() -> None:
    f = _facts("openai")
    openai_api.read_response(
        f, {"model": "e", "usage": {"prompt_tokens": 7, "total_tokens": 7}}, False
    )
    assert _usage(f) == (7, 0, None, None, None)


def test_anthropic_stream_takes_the_latest_cumulative_counts() -> None:
    f = _facts("anthropic")
    start = {
        "type": "message_start",
        "message": {
            "id": "m1",
            "model": "c",
            "usage": {"input_tokens": 10, "cache_read_input_tokens": 100, "output_tokens": 1},
        },
    }
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "max_tokens"},
        "usage": {"input_tokens": 10, "cache_creation_input_tokens": 5, "output_tokens": 42},
    }
    anthropic_api.read_event(f, "message_start", start, False)
    assert _usage(f) == (110, 1, 100, None, None)
    anthropic_api.read_event(f, "message_delta", delta, False)
    assert _usage(f) == (115, 42, 100, 5, None)  # input = uncached + read + write
    assert (f.response_id, f.finish_reasons) == ("m1", ["max_tokens"])


def test_gemini_tool_prompt_is_input_and_thoughts_are_output() -> None:
    f = _facts("gemini")
    gemini_api.read_response(
        f,
        [
            {"usageMetadata": {"promptTokenCount": 50}},
            {
                "usageMetadata": {
                    "promptTokenCount": 100,
                    "toolUsePromptTokenCount": 20,
                    "candidatesTokenCount": 30,
                    "thoughtsTokenCount": 7,
                    "cachedContentTokenCount": 40,
                },
                "candidates": [{"finishReason": "MAX_TOKENS"}],
                "modelVersion": "gemini-2.5-pro-001",
            },
        ],
        False,
    )
    assert _usage(f) == (120, 37, 40, None, 7)
    assert (f.response_model, f.finish_reasons) == ("gemini-2.5-pro-001", ["MAX_TOKENS"])


def test_bad_counts_are_ignored_not_trusted() -> None:
    f = _facts("openai")
    openai_api.read_response(f, {"usage": {"prompt_tokens": -3, "completion_tokens": "9"}}, False)
    assert _usage(f) == (None, None, None, None, None)


def test_sse_decoder_across_chunk_boundaries() -> None:
    raw = (
        b'event: message_start\r\ndata: {"a":\r\ndata: 1}\r\n\r\n: comment\n\n'
        b'data: {"b": 2}\n\ndata: [DONE]\n\ndata: not json\n\ndata: {"c": 3}'
    )
    decoder = SseDecoder()
    events = [e for i in range(len(raw)) for e in decoder.feed(raw[i : i + 1])]
    events += list(decoder.close())
    assert events == [("message_start", {"a": 1}), ("", {"b": 2}), ("", {"c": 3})]


def test_json_collector_keeps_usage_of_an_oversized_body() -> None:
    body = json.dumps(
        {
            "data": ["x" * 100] * 1000,
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 9, "total_tokens": 9},
        }
    ).encode()
    collector = JsonCollector(limit_bytes=1000)
    for i in range(0, len(body), 333):
        collector.feed(body[i : i + 333])
    assert collector.result() == {
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 9, "total_tokens": 9},
    }


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("", lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
    ],
)
def test_content_decoders(encoding: str, encode: Any) -> None:
    decoder = content_decoder(encoding)
    assert decoder is not None
    data = encode(b'{"usage": 1}' * 50)
    assert b"".join(decoder.decompress(data[i : i + 7]) for i in range(0, len(data), 7)) == (
        b'{"usage": 1}' * 50
    )


def test_unknown_encoding_is_left_unread() -> None:
    assert content_decoder("compress") is None
    assert content_decoder("gzip, br") is None


def test_settings_precedence(tmp_path: Path) -> None:
    config = tmp_path / "client.toml"
    config.write_text(
        'endpoint = "http://file:4318"\nkey = "osk_file"\nagent_name = "from-file"\n'
        "capture_content = true\n"
    )
    env = {"OTELSPEND_CLIENT_CONFIG": str(config), "OTELSPEND_KEY": "osk_env"}
    got = resolve_settings(ClientSettings(agent_name="from-arg"), env)
    assert (got.endpoint, got.key, got.agent_name, got.capture_content) == (
        "http://file:4318",
        "osk_env",
        "from-arg",
        True,
    )
    env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "false"
    assert resolve_settings(ClientSettings(), env).capture_content is False
    assert resolve_settings(ClientSettings(), env, capture_content=True).capture_content is True


def test_broken_config_file_is_ignored(tmp_path: Path) -> None:
    config = tmp_path / "client.toml"
    config.write_text("endpoint = [")
    got = resolve_settings(ClientSettings(), {"OTELSPEND_CLIENT_CONFIG": str(config)})
    assert got == ClientSettings()
