"""A real `serve` (receivers + pipeline + writer) on loopback, in a background event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from otelspend.server import RunningServer, ServeConfig, start_server
from store.identity import create_key


@dataclass
class LiveServer:
    """Ports, database URL and a ready user key of a running server."""

    db: str
    grpc_port: int
    http_port: int
    key: str
    running: RunningServer

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"


def run_server(db: str, **cfg: object) -> Iterator[LiveServer]:
    """Start a server on free ports; stop it (draining the writer) afterwards."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    config = ServeConfig(db=db, otlp_grpc_port=0, otlp_http_port=0, **cfg)  # type: ignore[arg-type]
    running = asyncio.run_coroutine_threadsafe(start_server(config), loop).result(60)
    key, _ = create_key(running.engine, org="acme", workspace="platform", user="alice")
    try:
        yield LiveServer(db, running.grpc_port, running.http_port, key, running)
    finally:
        asyncio.run_coroutine_threadsafe(running.stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture
def live_server(db_url: str) -> Iterator[LiveServer]:
    # One decode worker process: the production path (bodies over 32 KiB go to it).
    yield from run_server(db_url, decode_workers=1)


@pytest.fixture
def live_sqlite_server(sqlite_url: str) -> Iterator[LiveServer]:
    # Decoding in the serving process keeps these many short tests fast.
    yield from run_server(sqlite_url, decode_workers=0)
