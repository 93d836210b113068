"""The real OpenTelemetry SDK exporters (HTTP and gRPC) into a running server."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import spend_json


def _emit(exporter: SpanExporter, agent: str, calls: list[dict[str, object]]) -> None:
    provider = TracerProvider(resource=Resource.create({"service.name": "my-agent-svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(
        "invoke_agent",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": agent,
            # Parent totals must never add cost on top of the children.
            "gen_ai.usage.input_tokens": 999_999,
            "gen_ai.usage.output_tokens": 999_999,
        },
    ):
        for attrs in calls:
            with tracer.start_as_current_span(
                f"chat {attrs['gen_ai.request.model']}",
                attributes={"gen_ai.operation.name": "chat", "gen_ai.agent.name": agent, **attrs},
            ):
                pass
    provider.shutdown()


SONNET_CALL = {  # $3/M input, $15/M output: 10_000*3 + 2_000*15 = $0.060000
    "gen_ai.provider.name": "anthropic",
    "gen_ai.request.model": "claude-sonnet-4-5",
    "gen_ai.usage.input_tokens": 10_000,
    "gen_ai.usage.output_tokens": 2_000,
}
GPT_CALL = {  # input incl. 1000 cached: 3000*1.25 + 1000*0.125 + 500*10 = $0.008875
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-5.1",
    "gen_ai.usage.input_tokens": 4_000,
    "gen_ai.usage.cache_read.input_tokens": 1_000,
    "gen_ai.usage.output_tokens": 500,
}


def test_sdk_http_and_grpc_exporters_priced_exactly(live_server: LiveServer) -> None:
    headers = {"authorization": f"Bearer {live_server.key}"}
    http = HttpSpanExporter(endpoint=f"{live_server.http_endpoint}/v1/traces", headers=headers)
    _emit(http, "planner", [SONNET_CALL, SONNET_CALL, SONNET_CALL])
    grpc = GrpcSpanExporter(
        endpoint=f"127.0.0.1:{live_server.grpc_port}", insecure=True, headers=headers
    )
    _emit(grpc, "coder", [GPT_CALL])
    by_agent = {
        r["agent"]: (r["calls"], r["cost_usd"]) for r in spend_json(live_server.db, "agent", "1h")
    }
    assert by_agent == {"planner": (3, "0.180000"), "coder": (1, "0.008875")}
    [user] = spend_json(live_server.db, "user", "1h")
    assert (user["user"], user["calls"], user["cost_usd"]) == ("alice", 4, "0.188875")
    [ws] = spend_json(live_server.db, "workspace", "1h")
    assert ws["workspace"] == "platform"
    by_model = {r["model"]: r for r in spend_json(live_server.db, "model", "1h")}
    gpt = next(v for k, v in by_model.items() if k.startswith("gpt-5.1"))
    assert (gpt["input_tokens"], gpt["cache_read_tokens"]) == (3_000, 1_000)


def test_sdk_exporter_without_key_is_refused(live_sqlite_server: LiveServer) -> None:
    from opentelemetry.sdk.trace.export import SpanExportResult

    exporter = HttpSpanExporter(endpoint=f"{live_sqlite_server.http_endpoint}/v1/traces")
    provider = TracerProvider()
    with provider.get_tracer("t").start_as_current_span("chat", attributes=SONNET_CALL) as span:
        pass
    assert exporter.export([span]) == SpanExportResult.FAILURE  # type: ignore[list-item]
    assert spend_json(live_sqlite_server.db, "user", "1h") == []
