"""The gateway's aiohttp application and its start/stop, given the shared store pieces.

`otelspend serve` passes its own engine, writer and pipeline, so gateway calls share the
single writer; `otelspend gateway` (a replica) builds its own set via `standalone`.  The
proxy itself runs in a child process (gateway.front); this process keeps the store side
(reservations and recording) and answers the proxy over a Unix socket (gateway.store_link).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from collector_processor.pipeline import Pipeline
from gateway.config import PROVIDERS, GatewayConfig
from gateway.front import run_front
from gateway.proxy import GatewayProxy
from gateway.record import CallRecorder
from gateway.reservations import Reserver
from gateway.routes import ANTHROPIC, OPENAI, Route, gemini_route
from gateway.store_link import LinkServer, LocalStore
from store.writer import StoreWriter

log = logging.getLogger("otelspend.gateway")
_START_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 120.0  # calls in flight finish first; streams can be long
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RunningGateway:
    """A listening gateway; `port` is the bound one (useful when 0 was asked)."""

    host: str
    port: int
    process: BaseProcess
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL of the gateway."""
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop the proxy process (it finishes and settles calls in flight), then the store
        side it was talking to."""
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: the proxy's orderly stop
            await asyncio.to_thread(self.process.join, _STOP_TIMEOUT_S)
            if self.process.is_alive():
                log.error("gateway proxy process did not stop in %s s; killing it", _STOP_TIMEOUT_S)
                self.process.kill()
                await asyncio.to_thread(self.process.join, 5)
        for close in self._closers:
            result = close()
            if asyncio.iscoroutine(result):
                await result


def build_app(proxy: GatewayProxy) -> web.Application:
    """Routes of every provider, /metrics and /health."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    r = app.router
    for path, op in ANTHROPIC.items():
        method = "POST"
        r.add_route(method, f"/anthropic/{path}", _fixed(proxy, Route("anthropic", op, f"/{path}")))
    for path, op in OPENAI.items():
        method = "GET" if op == "models" else "POST"
        route = Route("openai", op, f"/v1/{path}")
        r.add_route(method, f"/openai/v1/{path}", _fixed(proxy, route))
    r.add_post("/gemini/{version}/models/{target}", _gemini(proxy))
    r.add_get("/metrics", _metrics(proxy))
    r.add_get("/health", _health(proxy))
    return app


def _fixed(proxy: GatewayProxy, route: Route) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await proxy.handle(request, route)

    return handler


def _gemini(proxy: GatewayProxy) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        route = gemini_route(request.match_info["version"], request.match_info["target"])
        if route is None:
            body = PROVIDERS["gemini"].error_body(404, f"no such route {request.path}")
            return web.json_response(body, status=404)
        return await proxy.handle(request, route)

    return handler


def _metrics(proxy: GatewayProxy) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = proxy.metrics.render()
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    return handler


def _health(proxy: GatewayProxy) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "ok", "upstreams": proxy.cfg.upstreams})

    return handler


async def start_gateway(
    cfg: GatewayConfig, *, engine: Engine, pipeline: Pipeline, writer: StoreWriter
) -> RunningGateway:
    """Start the proxy process and the store side it talks to; returns once it listens."""
    reserver = Reserver(engine, ttl_s=cfg.reservation_ttl_s, request_hint=cfg.request_hint)
    store = LocalStore(reserver, CallRecorder(pipeline, writer))
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[int] = loop.create_future()
    link = LinkServer(store, lambda port: None if ready.done() else ready.set_result(port))
    folder = tempfile.mkdtemp(prefix="otelspend-gateway-")
    path = os.path.join(folder, "store.sock")
    await link.start(path)
    db_url = engine.url.render_as_string(hide_password=False)
    level = logging.getLogger().getEffectiveLevel()
    # forkserver: a clean single-threaded parent to fork from (this process has threads),
    # with the proxy's modules imported once, so a proxy starts in milliseconds.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["gateway.front"])
    proc = ctx.Process(
        target=run_front, args=(cfg, db_url, path, level), name="otelspend-gateway-proxy",
        daemon=True,
    )  # fmt: skip
    proc.start()
    running = RunningGateway(cfg.host, 0, proc)

    async def stop_store_side() -> None:
        await link.close()
        await asyncio.to_thread(reserver.close)
        shutil.rmtree(folder, ignore_errors=True)

    running._closers += [stop_store_side]
    try:
        running.port = await _until_ready(ready, proc)
    except BaseException:
        await running.stop()
        raise
    return running


async def _until_ready(ready: asyncio.Future[int], proc: BaseProcess) -> int:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not ready.done():
        if not proc.is_alive():
            raise RuntimeError(
                f"the gateway's proxy process exited (code {proc.exitcode}) before listening;"
                " its log above says why"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gateway's proxy did not listen within {_START_TIMEOUT_S} s")
        await asyncio.wait([ready], timeout=0.05)
    return ready.result()
