"""How long `otelspend hook claude-code` takes, end to end, as Claude Code runs it.

Starts a server on a scratch SQLite store, creates a key with a hard budget, then runs the
hook N times (a new process each time, stdin = a UserPromptSubmit payload) on the allow path
and on the block path, and prints min / median / p95 wall-clock milliseconds.

    .venv/bin/python bench/hook_latency.py [--runs 30] [--otelspend PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otelspend.server import ServeConfig, start_server  # noqa: E402
from store.budgets import BudgetSpec, set_budget  # noqa: E402
from store.identity import create_key  # noqa: E402
from store.subjects import find_org, resolve_subject  # noqa: E402

PAYLOAD = json.dumps({"hook_event_name": "UserPromptSubmit", "prompt": "hi", "session_id": "s"})


def _time_runs(
    command: list[str], env: dict[str, str], runs: int, expect: int
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) milliseconds of each run."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, input=PAYLOAD, env=env, capture_output=True, text=True)
        wall.append((time.perf_counter() - start) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
        if done.returncode != expect:
            raise SystemExit(f"hook exited {done.returncode}, expected {expect}: {done.stderr}")
    return wall, cpu


def _post_one_call(port: int, key: str) -> None:
    """One priced GenAI span, sent as OTLP/JSON."""
    now = time.time_ns()
    attrs = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
        {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-5.1"}},
        {"key": "gen_ai.usage.input_tokens", "value": {"intValue": 1000}},
        {"key": "gen_ai.usage.output_tokens", "value": {"intValue": 100}},
    ]
    span = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "chat", "kind": 3,
            "startTimeUnixNano": now, "endTimeUnixNano": now, "attributes": attrs}  # fmt: skip
    body = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}]}]}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/traces", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _report(label: str, runs: tuple[list[float], list[float]]) -> float:
    wall, cpu = sorted(runs[0]), sorted(runs[1])
    p95 = wall[max(int(len(wall) * 0.95) - 1, 0)]
    print(
        f"{label:<30} wall min {wall[0]:6.1f}  median {statistics.median(wall):6.1f}  "
        f"p95 {p95:6.1f} ms | cpu median {statistics.median(cpu):5.1f} ms  (n={len(wall)})"
    )
    return float(statistics.median(wall))


def main() -> None:
    """Run the measurement."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--otelspend", default=str(Path(sys.executable).parent / "otelspend"))
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = ServeConfig(db=f"sqlite:///{tmp}/h.db", otlp_grpc_port=0, otlp_http_port=0,
                          decode_workers=0)  # fmt: skip
        running = asyncio.run_coroutine_threadsafe(start_server(cfg), loop).result(60)
        key, _ = create_key(running.engine, org="acme", workspace="w", user="alice")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL", "OTELSPEND"))}
        env["OTELSPEND_BUDGET_URL"] = f"http://127.0.0.1:{running.http_port}/v1/budget/check"
        env["OTELSPEND_KEY"] = key
        command = [args.otelspend, "hook", "claude-code"]
        floor = _report("python -c pass (floor)", _time_runs([sys.executable, "-c", "pass"], env,
                                                              args.runs, 0))  # fmt: skip
        allow = _report("hook, allow (no budget)", _time_runs(command, env, args.runs, 0))
        with running.engine.begin() as conn:
            org = find_org(conn, "acme")
            user = resolve_subject(conn, org.id, "user", "alice")
            set_budget(conn, BudgetSpec(org.id, "user", user, "day", 1, mode="hard"), "b", "acme")
        _report("hook, allow (1 budget)", _time_runs(command, env, args.runs, 0))
        _post_one_call(running.http_port, key)  # now spent > the 1 nano-USD limit
        block = _report("hook, block", _time_runs(command, env, args.runs, 2))
        down = {**env, "OTELSPEND_BUDGET_URL": "http://127.0.0.1:9/v1/budget/check"}
        down_ms = _report("hook, server down (fail open)", _time_runs(command, down, args.runs, 0))
        asyncio.run_coroutine_threadsafe(running.stop(), loop).result(60)
    print(
        f"BENCH hook_latency floor_ms={floor:.1f} allow_ms={allow:.1f} block_ms={block:.1f} "
        f"fail_open_ms={down_ms:.1f} runs={args.runs}"
    )


if __name__ == "__main__":
    main()
