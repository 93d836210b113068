"""Bad input gets the documented answer and changes no totals; the server stays up."""

from __future__ import annotations

import gzip

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from store.identity import create_key, revoke_key
from tests.otelspend.conftest import LiveServer, run_server
from tests.otelspend.helpers import FIXTURES, post, spend_json, totals

PB = "application/x-protobuf"
GOOD_MODEL = "claude-sonnet-4-5"


def _kv(key: str, value: object) -> KeyValue:
    v = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=str(value))
    return KeyValue(key=key, value=v)


def chat_span(n: int, **attrs: object) -> Span:
    base: dict[str, object] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": GOOD_MODEL,
        "gen_ai.provider.name": "anthropic",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 100,
    }
    base.update(attrs)
    return Span(
        trace_id=bytes([n % 256]) * 16,
        span_id=bytes([n % 256 or 1]) * 8,
        name="chat",
        start_time_unix_nano=1_795_391_329_000_000_000,
        end_time_unix_nano=1_795_391_330_000_000_000,
        attributes=[_kv(k, v) for k, v in base.items() if v is not None],
    )


def request(*spans: Span) -> bytes:
    rs = ResourceSpans(scope_spans=[ScopeSpans(spans=list(spans))])
    rs.resource.attributes.append(_kv("service.name", "agent-x"))
    return ExportTraceServiceRequest(resource_spans=[rs]).SerializeToString()


@pytest.fixture
def server(live_sqlite_server: LiveServer) -> LiveServer:
    return live_sqlite_server


def test_bad_bodies_answer_and_change_nothing(server: LiveServer) -> None:
    ep, key = server.http_endpoint, server.key
    good = request(chat_span(1))
    assert post(ep, "traces", good, key=key, content_type=PB)[0] == 200
    before = totals(server.db)
    cases = {
        "garbage": (b"\xff\x00garbage" * 10, PB, 400),
        "truncated": (good[: len(good) // 2], PB, 400),
        "wrong content type": (good, "text/plain", 415),
        "bad json": (b"{not json", "application/json", 400),
    }
    for name, (body, ctype, expected) in cases.items():
        status, text = post(ep, "traces", body, key=key, content_type=ctype)
        assert status == expected, (name, status, text)
        assert text, name  # the answer carries a message
    assert totals(server.db) == before
    assert post(ep, "traces", request(chat_span(2)), key=key, content_type=PB)[0] == 200


def test_partial_success_for_unusable_calls(server: LiveServer) -> None:
    body = request(
        chat_span(1),
        chat_span(2, **{"gen_ai.usage.input_tokens": -5}),
        chat_span(3, **{"gen_ai.usage.output_tokens": 10**12}),
        chat_span(4, **{"gen_ai.request.model": None}),
    )
    status, raw = post(server.http_endpoint, "traces", body, key=server.key, content_type=PB)
    assert status == 200
    resp = ExportTraceServiceResponse.FromString(raw)
    assert resp.partial_success.rejected_spans == 3
    assert "model" in resp.partial_success.error_message
    # 1000 input * $3/M + 100 output * $15/M = $0.004500: only the valid span counts.
    assert totals(server.db) == (1, "0.004500")


def test_huge_and_gzip_bodies(sqlite_url: str) -> None:
    gen = run_server(sqlite_url, max_body_bytes=64 * 1024)
    server = next(gen)
    try:
        big = request(*[chat_span(i, pad="x" * 2000) for i in range(1, 60)])
        status, _ = post(server.http_endpoint, "traces", big, key=server.key, content_type=PB)
        assert status == 413
        bomb = gzip.compress(b"\x00" * (10 * 1024 * 1024))
        status, _ = post(
            server.http_endpoint,
            "traces",
            bomb,
            key=server.key,
            content_type=PB,
            headers={"Content-Encoding": "gzip"},
        )
        assert status == 413
        small = gzip.compress(request(chat_span(7)))
        status, _ = post(
            server.http_endpoint,
            "traces",
            small,
            key=server.key,
            content_type=PB,
            headers={"Content-Encoding": "gzip"},
        )
        assert status == 200
        assert totals(server.db) == (1, "0.004500")
    finally:
        gen.close()


def test_keys_missing_unknown_revoked(server: LiveServer) -> None:
    body = request(chat_span(1))
    assert post(server.http_endpoint, "traces", body, key=None, content_type=PB)[0] == 401
    assert post(server.http_endpoint, "traces", body, key="osk_nope", content_type=PB)[0] == 401
    token, info = create_key(server.running.engine, org="acme", workspace="w", user="bob")
    assert revoke_key(server.running.engine, info.prefix)
    assert post(server.http_endpoint, "traces", body, key=token, content_type=PB)[0] == 401
    assert totals(server.db) == (0, "0.000000")


def test_trusted_key_takes_user_from_telemetry(server: LiveServer) -> None:
    token, _ = create_key(
        server.running.engine, org="acme", workspace="gw", user=None, trusted=True
    )
    body = request(chat_span(1, **{"user.email": "carol@example.com"}), chat_span(2))
    assert post(server.http_endpoint, "traces", body, key=token, content_type=PB)[0] == 200
    # A normal key ignores what the span claims.
    body = request(chat_span(3, **{"user.email": "mallory@example.com"}))
    assert post(server.http_endpoint, "traces", body, key=server.key, content_type=PB)[0] == 200
    users = {r["user"]: r["cost_usd"] for r in spend_json(server.db, "user")}
    assert users == {
        "carol@example.com": "0.004500",
        "unattributed": "0.004500",
        "alice": "0.004500",
    }


def test_health_endpoint(server: LiveServer) -> None:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{server.http_endpoint}/health", timeout=10) as resp:
        data = json.loads(resp.read())
    assert data["status"] == "ok"
    assert "queue_depth" in data
    assert FIXTURES.is_dir()
