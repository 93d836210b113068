"""End-to-end durable ingest benchmark: OTLP/HTTP → `otelspend serve` → committed rows.

Starts a real `otelspend serve` subprocess on a fresh SQLite (or --db) store, sends
pre-encoded 512-span batches of realistic GenAI traces (an invoke_agent root and 15 chat
spans per agent task: 480 model calls per batch) from several concurrent senders over
keep-alive connections, and counts the spans and calls in the store after the last ack.
A baseline measured in the same run — the same senders against a loopback HTTP server that
only reads the body and answers 200 — shows how close ingest gets to the transport ceiling.

    python bench/ingest.py [--runs 3] [--batches 200] [--senders 4] [--db URL]

The last line is machine-readable: `BENCH ingest key=value ...`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from sqlalchemy import create_engine, text

SPANS_PER_BATCH = 512
_MODELS = [("anthropic", "claude-sonnet-4-5"), ("openai", "gpt-5.1"), ("google", "gemini-2.5-pro")]
_REPO = Path(__file__).resolve().parents[1]


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


SPANS_PER_TRACE = 16  # one invoke_agent root + 15 model calls: an agent task, not 16 tasks
CALLS_PER_BATCH = SPANS_PER_BATCH // SPANS_PER_TRACE * (SPANS_PER_TRACE - 1)


def _chat_attrs(rng: random.Random, session: str, agent: str) -> dict[str, object]:
    provider, model = rng.choice(_MODELS)
    inp = rng.randint(500, 50_000)
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.response.id": f"resp_{rng.getrandbits(64):x}",
        "gen_ai.usage.input_tokens": inp,
        "gen_ai.usage.output_tokens": rng.randint(50, 4000),
        "gen_ai.usage.cache_read.input_tokens": rng.randint(0, inp // 2),
        "gen_ai.agent.name": agent,
        "gen_ai.conversation.id": session,
        "gen_ai.request.max_tokens": 8192,
        "gen_ai.request.temperature": "0.2",
        "gen_ai.response.finish_reasons": "stop",
        "server.address": "api.example.com",
        "server.port": 443,
        "http.response.status_code": 200,
        "user.id": f"u{rng.randint(1, 40)}",
        "thread.name": "worker",
    }


def _trace(rng: random.Random, now_ns: int) -> list[Span]:
    """One agent task: an invoke_agent root span and its model-call children."""
    trace_id = rng.getrandbits(128).to_bytes(16, "big")
    root_id = rng.getrandbits(64).to_bytes(8, "big")
    agent = rng.choice(["planner", "coder", "reviewer"])
    session = f"conv-{rng.randint(1, 500)}"
    start = now_ns - rng.randint(0, 3_000_000_000)
    root_attrs = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": agent,
                  "gen_ai.conversation.id": session}
    spans = [Span(trace_id=trace_id, span_id=root_id, name=f"invoke_agent {agent}", kind=1,
                  start_time_unix_nano=start, end_time_unix_nano=start + 60 * 10**9,
                  attributes=[_kv(k, v) for k, v in root_attrs.items()])]
    for i in range(SPANS_PER_TRACE - 1):
        attrs = _chat_attrs(rng, session, agent)
        begin = start + i * 3 * 10**9
        spans.append(Span(trace_id=trace_id, span_id=rng.getrandbits(64).to_bytes(8, "big"),
                          parent_span_id=root_id, name=f"chat {attrs['gen_ai.request.model']}",
                          kind=3, start_time_unix_nano=begin,
                          end_time_unix_nano=begin + rng.randint(10**8, 3 * 10**9),
                          attributes=[_kv(k, v) for k, v in attrs.items()]))
    return spans


def make_batches(n: int, seed: int) -> list[ExportTraceServiceRequest]:
    """n requests of SPANS_PER_BATCH spans: whole agent traces of realistic GenAI spans."""
    rng = random.Random(seed)
    now = time.time_ns()
    out = []
    for _ in range(n):
        spans = [s for _ in range(SPANS_PER_BATCH // SPANS_PER_TRACE) for s in _trace(rng, now)]
        rs = ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])
        rs.resource.attributes.extend(
            [_kv("service.name", "bench-agent"), _kv("host.name", "dev1")]
        )
        out.append(ExportTraceServiceRequest(resource_spans=[rs]))
    return out


def send_all(
    port: int, path: str, bodies: list[bytes], ctype: str, key: str, senders: int
) -> float:
    """Send every body from `senders` keep-alive connections; return seconds to the last ack."""
    errors: list[str] = []

    def worker(chunk: list[bytes]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for body in chunk:
            while True:
                conn.request(
                    "POST", path, body, {"Content-Type": ctype, "Authorization": f"Bearer {key}"}
                )
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    break
                if resp.status in (429, 503):  # back off as an exporter would, then retry
                    time.sleep(float(resp.getheader("Retry-After", "1")) / 10)
                    continue
                errors.append(f"HTTP {resp.status}")
                return
        conn.close()

    chunks = [bodies[i::senders] for i in range(senders)]
    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"send failed: {errors[:3]}")
    return elapsed


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _otelspend(*args: str) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).with_name("otelspend"))
    return subprocess.run([exe, *args], check=True, capture_output=True, text=True)


def run_ingest(db: str, bodies: list[bytes], ctype: str, senders: int) -> tuple[float, int, int]:
    """One run on a fresh store: (spans/s, spans stored, calls stored)."""
    key = _otelspend(
        "keys", "create", "--db", db, "--org", "bench", "--workspace", "w", "--user", "bench"
    ).stdout.strip()
    port = _free_port()
    exe = str(Path(sys.executable).with_name("otelspend"))
    proc = subprocess.Popen(
        [
            exe,
            "serve",
            "--db",
            db,
            "--otlp-http-port",
            str(port),
            "--otlp-grpc-port",
            "0",
            "--no-key",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_http(port)
        elapsed = send_all(port, "/v1/traces", bodies, ctype, key, senders)
    finally:
        proc.terminate()
        proc.wait(60)
    engine = create_engine(db)
    with engine.connect() as conn:
        spans = conn.execute(text("select count(*) from spans")).scalar_one()
        calls = conn.execute(text("select count(*) from llm_calls")).scalar_one()
    engine.dispose()
    expected, expected_calls = len(bodies) * SPANS_PER_BATCH, len(bodies) * CALLS_PER_BATCH
    if spans != expected or calls != expected_calls:
        raise SystemExit(
            f"store holds {spans} spans / {calls} calls, expected {expected} / {expected_calls}"
        )
    return expected / elapsed, spans, calls


def _wait_http(port: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


class _SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def run_baseline(bodies: list[bytes], ctype: str, senders: int) -> float:
    """Spans/s the same senders reach against a read-and-discard HTTP server."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SinkHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        elapsed = send_all(server.server_address[1], "/v1/traces", bodies, ctype, "x", senders)
    finally:
        server.shutdown()
    return len(bodies) * SPANS_PER_BATCH / elapsed


def _to_json(req: ExportTraceServiceRequest) -> bytes:
    from google.protobuf.json_format import MessageToDict

    d = MessageToDict(req)
    for rs in d["resourceSpans"]:  # OTLP/JSON ids are hex, not protobuf-JSON base64
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for f in ("traceId", "spanId"):
                    s[f] = __import__("base64").b64decode(s[f]).hex()
    return json.dumps(d).encode()


def _median_runs(label: str, runs: int, fn: Callable[[int], float]) -> float:
    rates = []
    for i in range(runs):
        rate = fn(i)
        rates.append(rate)
        print(f"  {label} run {i + 1}/{runs}: {rate:,.0f} spans/s", flush=True)
    return statistics.median(rates)


def main() -> None:
    """Run the benchmark and print figures plus one machine-readable line."""
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batches", type=int, default=200, help="512-span batches per run")
    ap.add_argument("--json-batches", type=int, default=60)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--db", default=None, help="database URL (default: fresh SQLite per run)")
    args = ap.parse_args()
    print(f"building {args.batches} batches x {SPANS_PER_BATCH} spans ...", flush=True)
    reqs = make_batches(args.batches, seed=1)
    pb = [r.SerializeToString() for r in reqs]
    js = [_to_json(r) for r in reqs[: args.json_batches]]
    tmp = tempfile.mkdtemp(prefix="otelspend-bench-")

    def db_for(tag: str, i: int) -> str:
        return args.db or f"sqlite:///{os.path.join(tmp, f'{tag}{i}.db')}"

    print(f"cores={os.cpu_count()} senders={args.senders} runs={args.runs}", flush=True)
    base = _median_runs(
        "baseline (HTTP sink)",
        args.runs,
        lambda i: run_baseline(pb, "application/x-protobuf", args.senders),
    )
    pb_rate = _median_runs(
        "protobuf ingest",
        args.runs,
        lambda i: run_ingest(db_for("pb", i), pb, "application/x-protobuf", args.senders)[0],
    )
    js_rate = _median_runs(
        "OTLP/JSON ingest",
        args.runs,
        lambda i: run_ingest(db_for("js", i), js, "application/json", args.senders)[0],
    )
    print(f"median protobuf ingest: {pb_rate:,.0f} spans/s (durable, counted in the store)")
    print(f"median OTLP/JSON ingest: {js_rate:,.0f} spans/s")
    print(f"median baseline HTTP sink: {base:,.0f} spans/s; ingest/baseline = {pb_rate / base:.3f}")
    print(
        f"BENCH ingest protobuf_spans_per_s={pb_rate:.0f} json_spans_per_s={js_rate:.0f} "
        f"baseline_sink_spans_per_s={base:.0f} ratio_vs_baseline={pb_rate / base:.3f} "
        f"runs={args.runs} batches={args.batches} senders={args.senders}"
    )


if __name__ == "__main__":
    main()
