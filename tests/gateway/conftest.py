"""A live serve (receivers + gateway) against the issue-6 stand-in upstream, on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis

from gateway.config import GatewayConfig
from tests.otelspend.conftest import LiveServer, run_server
from tests.otelspend.standin_upstream import StandinUpstream

PROVIDER_KEY = "sk-real-provider-secret"


@dataclass
class GatewayRig:
    """The server, its gateway URL and the stand-in behind it."""

    live: LiveServer
    upstream: StandinUpstream

    @property
    def url(self) -> str:
        assert self.live.running.gateway is not None
        return self.live.running.gateway.url

    def post(
        self, path: str, body: dict[str, Any], key: str | None = None, **headers: str
    ) -> httpx.Response:
        """POST JSON with the otelspend key where the provider's clients put it."""
        token = self.live.key if key is None else key
        h = dict(headers)
        if not token:
            h.setdefault("anthropic-version", "2023-06-01")
        elif path.startswith("/anthropic"):
            h.setdefault("x-api-key", token)
            h.setdefault("anthropic-version", "2023-06-01")
        elif path.startswith("/gemini"):
            h.setdefault("x-goog-api-key", token)
        else:
            h.setdefault("Authorization", f"Bearer {token}")
        return httpx.post(self.url + path, json=body, headers=h, timeout=30)


def gateway_config(upstream: StandinUpstream, **overrides: Any) -> GatewayConfig:
    """A gateway on a free port pointing every provider at the stand-in."""
    base = {p: upstream.url for p in ("anthropic", "openai", "gemini")}
    creds = {p: PROVIDER_KEY for p in base}
    return GatewayConfig(port=0, upstreams=base, credentials=creds, **overrides)


@pytest.fixture
def upstream() -> Iterator[StandinUpstream]:
    with StandinUpstream() as server:
        yield server


@pytest.fixture
def rig(sqlite_url: str, upstream: StandinUpstream) -> Iterator[GatewayRig]:
    for live in run_server(sqlite_url, decode_workers=0, gateway=gateway_config(upstream)):
        yield GatewayRig(live, upstream)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A throwaway Redis server on loopback (`make test` installs redis-server)."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server is not installed (make test installs it: scripts/ensure-apt.sh)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly",
            "no", "--protected-mode", "yes"]  # fmt: skip
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        server.terminate()
        server.wait(10)
