"""Benchmark the OTLP decode edge: a 512-span batch of GenAI spans, protobuf and OTLP/JSON.

Run: .venv/bin/python bench/decode.py [--runs N]
The last line is machine-readable: BENCH decode_pb_spans_per_s=... decode_json_spans_per_s=...
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector_processor.otlp.decode import decode_traces

BATCH_SPANS = 512
DEFAULT_RUNS = 25
_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


def _value(raw: Any) -> AnyValue:
    """Wrap a plain value as an AnyValue."""
    if isinstance(raw, bool):
        return AnyValue(bool_value=raw)
    if isinstance(raw, int):
        return AnyValue(int_value=raw)
    if isinstance(raw, float):
        return AnyValue(double_value=raw)
    if isinstance(raw, list):
        return AnyValue(array_value=ArrayValue(values=[_value(item) for item in raw]))
    return AnyValue(string_value=str(raw))


def _genai_attributes(index: int) -> dict[str, Any]:
    """Return the ~20 attributes a real GenAI chat span carries."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.system": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-5",
        "gen_ai.response.model": "claude-sonnet-4-5-20250929",
        "gen_ai.response.id": f"msg_01{index:022d}",
        "gen_ai.request.max_tokens": 8192,
        "gen_ai.request.temperature": 0.7,
        "gen_ai.usage.input_tokens": 1200 + index,
        "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.cache_read_input_tokens": 5000,
        "gen_ai.usage.cache_creation_input_tokens": 800,
        "gen_ai.response.finish_reasons": ["end_turn"],
        "gen_ai.conversation.id": "cf582cc4-a356-4c3c-b614-7d624c52081b",
        "session.id": "cf582cc4-a356-4c3c-b614-7d624c52081b",
        "user.id": "7f3f6856e1dc7dd96408d4003ca1655c0db00dd1544566d78c06eaa9f33cdea7",
        "server.address": "api.anthropic.com",
        "server.port": 443,
        "http.response.status_code": 200,
        "success": True,
    }


def build_request() -> ExportTraceServiceRequest:
    """Build one export request of BATCH_SPANS GenAI spans under one resource and scope."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    for key, raw in {"service.name": "claude-code", "service.version": "2.1.197"}.items():
        resource_spans.resource.attributes.append(KeyValue(key=key, value=_value(raw)))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "com.anthropic.claude_code.tracing"
    start_ns = 1_795_391_329_306_000_000
    for index in range(BATCH_SPANS):
        span = Span(
            trace_id=(index // 8 + 1).to_bytes(16, "big"),
            span_id=(index + 1).to_bytes(8, "big"),
            parent_span_id=(index // 8 + 10_000).to_bytes(8, "big"),
            name="chat claude-sonnet-4-5",
            kind=Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=start_ns + index * 1_000_000,
            end_time_unix_nano=start_ns + index * 1_000_000 + 25_100_517,
        )
        for key, raw in _genai_attributes(index).items():
            span.attributes.append(KeyValue(key=key, value=_value(raw)))
        scope_spans.spans.append(span)
    return request


def to_otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """Encode as OTLP/JSON the way exporters do: hex ids, intValue as JSON numbers."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: base64.b64decode(value).hex()
                if key in _ID_FIELDS
                else int(value)
                if key == "intValue"
                else fix(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [fix(item) for item in node]
        return node

    return json.dumps(fix(MessageToDict(request)), separators=(",", ":")).encode()


def time_runs(decode: Callable[[], object], runs: int) -> list[float]:
    """Time `decode` `runs` times (wall clock, seconds) after one warm-up."""
    decode()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        decode()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    """Print per-batch decode times and a machine-readable BENCH line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    runs = parser.parse_args().runs
    request = build_request()
    pb_body = request.SerializeToString()
    json_body = to_otlp_json(request)
    assert decode_traces(pb_body, "protobuf") == decode_traces(json_body, "json")
    pb_runs = time_runs(lambda: decode_traces(pb_body, "protobuf"), runs)
    json_runs = time_runs(lambda: decode_traces(json_body, "json"), runs)
    pb_s, json_s = statistics.median(pb_runs), statistics.median(json_runs)
    print(f"{BATCH_SPANS} GenAI spans, 20 attributes each, {runs} runs: median (best)")
    for label, size, samples in (
        ("protobuf ", len(pb_body), pb_runs),
        ("OTLP/JSON", len(json_body), json_runs),
    ):
        median_ms, best_ms = statistics.median(samples) * 1e3, min(samples) * 1e3
        print(f"  {label} {size:>8} bytes  {median_ms:7.2f} ms/batch  ({best_ms:.2f})")
    print(
        f"BENCH decode_pb_spans_per_s={BATCH_SPANS / pb_s:.0f}"
        f" decode_json_spans_per_s={BATCH_SPANS / json_s:.0f}"
        f" decode_pb_ms_per_512={pb_s * 1e3:.3f} decode_json_ms_per_512={json_s * 1e3:.3f}"
    )


if __name__ == "__main__":
    main()
