"""Each route, streaming and not, through a live gateway: usage parsed per stream format,
bodies unchanged, credentials swapped, the call recorded once with the right dollars."""

from __future__ import annotations

import httpx
import pytest

from store.gateway import live_reservations
from tests.gateway.conftest import PROVIDER_KEY, GatewayRig
from tests.gateway.helpers import CLAUDE, GEMINI, GPT, anthropic_body, wait_spend

# Stand-in usage (tests/otelspend/standin_bodies.py), genai-prices rates:
# Anthropic sonnet-4.5: 1200 in, 5000 read, 800 write, 300 out = $0.012600
# OpenAI gpt-5.1: 1200 in incl 1000 cached, 300 out = 200*1.25+1000*0.125+300*10 = $0.003375
# Gemini 2.5 flash: 1200 in incl 1000 cached, 300+100 out = 60 + 30 + 1000 = $0.001090
CASES = [
    ("/anthropic/v1/messages", anthropic_body(), "0.012600"),
    ("/anthropic/v1/messages", anthropic_body(stream=True), "0.012600"),
    ("/openai/v1/chat/completions",
     {"model": GPT, "messages": [{"role": "user", "content": "hi"}]}, "0.003375"),
    ("/openai/v1/chat/completions",
     {"model": GPT, "stream": True, "stream_options": {"include_usage": True},
      "messages": [{"role": "user", "content": "hi"}]}, "0.003375"),
    ("/openai/v1/responses", {"model": GPT, "input": "hi"}, "0.003375"),
    ("/openai/v1/responses", {"model": GPT, "input": "hi", "stream": True}, "0.003375"),
    (f"/gemini/v1beta/models/{GEMINI}:generateContent",
     {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, "0.001090"),
    (f"/gemini/v1beta/models/{GEMINI}:streamGenerateContent?alt=sse",
     {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, "0.001090"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "cost"), CASES)
def test_route_forwards_and_records_the_call(
    rig: GatewayRig, path: str, body: dict[str, object], cost: str
) -> None:
    r = rig.post(path, body, **{"traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"})
    assert r.status_code == 200, r.text
    assert "Hi!" in r.text or "Hi" in r.text
    sent = rig.upstream.model_calls()[-1]
    assert sent.body == body  # unchanged
    creds = {k.lower(): v for k, v in sent.headers.items()}
    assert rig.live.key not in str(sent.headers) and PROVIDER_KEY in str(creds)
    assert sent.headers["traceparent"].startswith("00-" + "ab" * 16)
    assert wait_spend(rig.live.db, 1) == (1, cost)
    assert live_reservations(rig.live.running.engine) == []
    with rig.live.running.engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT dialect, trace_id FROM llm_calls").one()  # fmt: skip
    assert tuple(row) == ("gateway", "ab" * 16)


def test_chat_stream_without_usage_is_billed_from_the_estimate(rig: GatewayRig) -> None:
    body = {"model": GPT, "stream": True, "messages": [{"role": "user", "content": "x" * 300}]}
    r = rig.post("/openai/v1/chat/completions", body)
    assert r.status_code == 200 and "data: [DONE]" in r.text
    calls, cost = wait_spend(rig.live.db, 1)
    assert calls == 1 and float(cost) > 0  # ~100 input tokens + the streamed text, never zero


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/anthropic/v1/messages/count_tokens", {"model": CLAUDE, "messages": []}),
        ("POST", "/openai/v1/embeddings", {"model": "text-embedding-3-small", "input": "hi"}),
        ("GET", "/openai/v1/models", None),
    ],
)
def test_other_routes_pass_through(rig: GatewayRig, method: str, path: str, body: object) -> None:
    h = {"Authorization": f"Bearer {rig.live.key}", "x-api-key": rig.live.key}
    r = httpx.request(method, rig.url + path, json=body, headers=h, timeout=30)
    assert r.status_code == 200, r.text
    assert rig.upstream.requests[-1].path == path.removeprefix("/anthropic").removeprefix("/openai")


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/anthropic/v1/messages", lambda j: j["error"]["type"] == "authentication_error"),
        ("/openai/v1/chat/completions", lambda j: "message" in j["error"]),
        (f"/gemini/v1beta/models/{GEMINI}:generateContent",
         lambda j: j["error"]["status"] == "UNAUTHENTICATED"),
    ],
)  # fmt: skip
def test_missing_or_unknown_key_gets_the_provider_shaped_401(
    rig: GatewayRig, path: str, shape: object
) -> None:
    for key in ("", "osk_not_a_key"):
        r = rig.post(path, anthropic_body(), key=key)
        assert r.status_code == 401 and shape(r.json()), r.text  # type: ignore[operator]
    assert rig.upstream.requests == []


def test_metrics_endpoint(rig: GatewayRig) -> None:
    rig.post("/anthropic/v1/messages", anthropic_body())
    text = httpx.get(rig.url + "/metrics").text
    assert (
        'otelspend_gateway_requests_total{operation="chat",provider="anthropic",status="200"} 1.0'
        in text
    )
    assert "otelspend_gateway_upstream_seconds_bucket" in text
    assert "otelspend_gateway_overhead_seconds_count" in text
