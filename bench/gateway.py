"""Gateway overhead: the same load direct to a stand-in upstream and through the gateway.

    .venv/bin/python bench/gateway.py [--rounds 7] [--requests 400] [--clients 16]
        [--upstream-ms 0,100] [--db URL]

The stand-in upstream (tests/otelspend/standin_upstream.py: Anthropic and OpenAI shapes,
streaming and not) and `otelspend gateway` each run in their own process; this process is
the load generator.  A hard daily budget (far from its limit) applies to the key, so every
gateway call takes and settles a reservation.  Rounds alternate direct / gateway; per round
p50 and p99 latency (request start to last byte) and throughput; reported as medians over
rounds.

Each --upstream-ms value is one scenario: the stand-in waits that long before answering a
model call (and a tenth of it between streamed events).  0 is an instant upstream: the run
is CPU-bound, and on a small machine the gateway process competes for the cores with the
load generator and the stand-in, so it measures the gateway's CPU cost per call.  100 is a
provider-like upstream (real ones take 0.3-30 s), where the client waits on the model, as
in production.  One line per scenario:
`BENCH gateway upstream_ms=.. added_p50_ms=.. added_p99_ms=.. throughput_ratio=..`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OTELSPEND = str(Path(sys.executable).with_name("otelspend"))
KINDS = [  # (path, body): Anthropic and OpenAI, streaming and not
    ("/v1/messages", {"model": "claude-sonnet-4-5", "max_tokens": 300,
                      "messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/messages", {"model": "claude-sonnet-4-5", "max_tokens": 300, "stream": True,
                      "messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/chat/completions", {"model": "gpt-5.1", "max_tokens": 300,
                              "messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/chat/completions", {"model": "gpt-5.1", "max_tokens": 300, "stream": True,
                              "stream_options": {"include_usage": True},
                              "messages": [{"role": "user", "content": "hi"}]}),
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_upstream(port: int, delay_ms: int) -> None:
    """Run the stand-in until killed (child process)."""
    from tests.otelspend.standin_upstream import StandinUpstream

    delay_s = delay_ms / 1000
    up = StandinUpstream(port=port, first_byte_delay_s=delay_s, chunk_delay_s=delay_s / 10)
    up.start()
    up.requests = _Discard()  # a long bench must not keep every request in memory
    gc.collect()
    gc.freeze()  # like the gateway: no full GC pass over the start-up heap mid-round
    while True:
        time.sleep(3600)


class _Discard(list[Any]):
    def append(self, item: Any) -> None:  # noqa: D102 - drop records
        return None


async def _round(urls: list[str], headers: dict[str, str], n: int, clients: int) -> list[float]:
    latencies: list[float] = []
    counter = iter(range(n))

    async def client(session: aiohttp.ClientSession) -> None:
        for i in counter:
            path, body = KINDS[i % len(KINDS)]
            t0 = time.perf_counter()
            prefix = urls[0] if path.startswith("/v1/messages") else urls[1]
            async with session.post(prefix + path, json=body, headers=headers) as r:
                await r.read()
                assert r.status == 200, (r.status, await r.text())
            latencies.append(time.perf_counter() - t0)

    conn = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=conn) as session:
        await asyncio.gather(*(client(session) for _ in range(clients)))
    return latencies


def _wait(url: str) -> None:
    import httpx

    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def _setup_store(db: str) -> str:
    from otelspend.server import prepare_store
    from store.budgets import BudgetSpec, set_budget
    from store.identity import create_key
    from store.subjects import find_org, resolve_subject

    engine = prepare_store(db)
    key, _ = create_key(engine, org="acme", workspace="platform", user="alice")
    with engine.begin() as conn:
        org = find_org(conn, "acme")
        uid = resolve_subject(conn, org.id, "user", "alice")
        spec = BudgetSpec(org_id=org.id, scope="user", scope_id=uid, window="day",
                          limit_nanousd=10**15, mode="hard")  # fmt: skip
        set_budget(conn, spec, "bench", "acme")
    engine.dispose()
    return key


def _overhead(gw: str) -> tuple[float, float, dict[float, float]]:
    """The gateway's own overhead histogram (auth, estimate, lease): sum, count, buckets."""
    import httpx

    total = count = 0.0
    buckets: dict[float, float] = {}
    for line in httpx.get(gw + "/metrics", timeout=10).text.splitlines():
        name, _, value = line.rpartition(" ")
        if name.startswith("otelspend_gateway_overhead_seconds_sum"):
            total += float(value)
        elif name.startswith("otelspend_gateway_overhead_seconds_count"):
            count += float(value)
        elif name.startswith("otelspend_gateway_overhead_seconds_bucket"):
            le = float(name.split('le="')[1].split('"')[0])
            buckets[le] = buckets.get(le, 0.0) + float(value)
    return total, count, buckets


def _admission(before: tuple[float, float, dict[float, float]], gw: str) -> None:
    """Mean admission time over the measured rounds, and the bucket holding its p99."""
    total, count, buckets = _overhead(gw)
    total, count = total - before[0], count - before[1]
    if count:
        left = {le: n - before[2].get(le, 0.0) for le, n in buckets.items()}
        p99 = next(le for le, n in sorted(left.items()) if n >= 0.99 * count)
        print(f"admission (auth, estimate, lease) mean {total / count * 1000:.2f} ms, "
              f"p99 <= {p99 * 1000:g} ms, over {count:.0f} calls")  # fmt: skip


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def main() -> None:
    """Run the alternating rounds and print the medians."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--upstream-ms", default="0,100", help="comma-separated scenarios")
    ap.add_argument("--db", default="")
    ap.add_argument("--serve-upstream", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream, int(args.upstream_ms))
        return
    for delay in (int(x) for x in args.upstream_ms.split(",")):
        _scenario(args, delay)


def _scenario(args: argparse.Namespace, delay_ms: int) -> None:
    print(f"== upstream answers after {delay_ms} ms", flush=True)
    tmp = tempfile.mkdtemp(prefix="bench-gateway-")
    db = args.db or f"sqlite:///{tmp}/bench.db"
    key = _setup_store(db)
    up_port, gw_port = _free_port(), _free_port()
    up = f"http://127.0.0.1:{up_port}"
    gw = f"http://127.0.0.1:{gw_port}"
    env = {**os.environ, "OTELSPEND_ANTHROPIC_API_KEY": "sk-x", "OTELSPEND_OPENAI_API_KEY": "sk-x",
           "OTELSPEND_LOG_LEVEL": "warning"}  # fmt: skip
    procs = [
        subprocess.Popen([sys.executable, __file__, "--serve-upstream", str(up_port),
                          "--upstream-ms", str(delay_ms)]),
        subprocess.Popen([OTELSPEND, "gateway", "--db", db, "--port", str(gw_port),
                          "--upstream-anthropic", up, "--upstream-openai", up],
                         env=env, stdout=subprocess.DEVNULL),
    ]  # fmt: skip
    try:
        _wait(up + "/v1/models")
        _wait(gw + "/health")
        _run(args, up, gw, key, delay_ms)
    finally:
        for p in procs:
            p.terminate()
            p.wait(30)


def _run(args: argparse.Namespace, up: str, gw: str, key: str, delay_ms: int) -> None:
    headers = {"x-api-key": key, "Authorization": f"Bearer {key}",
               "anthropic-version": "2023-06-01"}  # fmt: skip
    targets = {"direct": [up, up], "gateway": [gw + "/anthropic", gw + "/openai"]}
    asyncio.run(_round(targets["gateway"], headers, 64, args.clients))  # warm up both
    asyncio.run(_round(targets["direct"], headers, 64, args.clients))
    warm = _overhead(gw)
    gc.collect()
    gc.freeze()  # the load generator's own full GC passes (~90 ms) must not pause a round
    stats: dict[str, list[tuple[float, float, float]]] = {"direct": [], "gateway": []}
    for r in range(args.rounds):
        for name in ("direct", "gateway") if r % 2 == 0 else ("gateway", "direct"):
            t0 = time.perf_counter()
            lat = asyncio.run(_round(targets[name], headers, args.requests, args.clients))
            rps = len(lat) / (time.perf_counter() - t0)
            stats[name].append((_pct(lat, 0.5), _pct(lat, 0.99), rps))
            print(f"round {r} {name:8s} p50 {stats[name][-1][0]:6.2f} ms  "
                  f"p99 {stats[name][-1][1]:6.2f} ms  {rps:7.0f} req/s", flush=True)  # fmt: skip
    med = {n: [statistics.median(x[i] for x in s) for i in range(3)] for n, s in stats.items()}
    added50 = med["gateway"][0] - med["direct"][0]
    added99 = med["gateway"][1] - med["direct"][1]
    ratio = med["gateway"][2] / med["direct"][2]
    print(f"direct  p50 {med['direct'][0]:.2f} ms p99 {med['direct'][1]:.2f} ms "
          f"{med['direct'][2]:.0f} req/s")  # fmt: skip
    print(f"gateway p50 {med['gateway'][0]:.2f} ms p99 {med['gateway'][1]:.2f} ms "
          f"{med['gateway'][2]:.0f} req/s")  # fmt: skip
    print(f"BENCH gateway upstream_ms={delay_ms} added_p50_ms={added50:.2f} "
          f"added_p99_ms={added99:.2f} "
          f"throughput_ratio={ratio:.2f} clients={args.clients} requests={args.requests} "
          f"rounds={args.rounds}")  # fmt: skip
    _admission(warm, gw)


if __name__ == "__main__":
    main()
