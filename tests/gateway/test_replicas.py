"""Two `otelspend gateway` processes sharing one PostgreSQL: budget holds are shared, so many
concurrent calls through both never pass the limit (each call's actual cost is below its
reservation here, so the bound is the limit itself)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from otelspend.server import prepare_store
from store.identity import create_key
from tests.gateway.helpers import anthropic_body, hard_budget, spend, wait_spend
from tests.otelspend.standin_bodies import AnthropicUsage
from tests.otelspend.standin_upstream import StandinUpstream

OTELSPEND = str(Path(sys.executable).with_name("otelspend"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "gateway exited early"
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError(f"gateway at {url} did not start")


@pytest.fixture
def replicas(pg_db_url: str, upstream: StandinUpstream) -> Iterator[list[str]]:
    prepare_store(pg_db_url).dispose()
    env = {**os.environ, "OTELSPEND_ANTHROPIC_API_KEY": "sk-real", "OTELSPEND_LOG_LEVEL": "warning"}
    procs, urls = [], []
    for _ in range(2):
        port = _free_port()
        argv = [OTELSPEND, "gateway", "--db", pg_db_url, "--port", str(port),
                "--upstream-anthropic", upstream.url]  # fmt: skip
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs, strict=True):
            _wait_ready(url, proc)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


def test_two_replicas_share_the_budget(
    pg_db_url: str, upstream: StandinUpstream, replicas: list[str]
) -> None:
    engine = prepare_store(pg_db_url)
    key, _ = create_key(engine, org="acme", workspace="platform", user="alice")
    hard_budget(engine, "alice", "0.05")
    upstream.anthropic = AnthropicUsage(1200, 300, 0, 0)  # $0.0081 a call; holds ~$0.0087
    upstream.chunk_delay_s = 0.01
    body = anthropic_body(stream=True, text="z" * 4200)
    h = {"x-api-key": key, "anthropic-version": "2023-06-01"}

    def call(i: int) -> int:
        url = replicas[i % 2] + "/anthropic/v1/messages"
        return httpx.post(url, json=body, headers=h, timeout=60).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(call, range(48)))
    ok = codes.count(200)
    assert set(codes) <= {200, 400} and 1 <= ok < 48, codes
    db = pg_db_url
    calls, cost = wait_spend(db, ok)
    assert calls == ok == len(upstream.model_calls())
    assert Decimal(cost) <= Decimal("0.05"), (ok, cost)
    assert spend(db) == (calls, cost)
    engine.dispose()
