"""The gateway's aiohttp application and its start/stop, given the shared store pieces.

`otelspend serve` passes its own engine, writer and pipeline, so gateway calls share the
single writer; `otelspend gateway` (a replica) builds its own set via `standalone`.  The
proxy itself runs in a child process (gateway.front); this process keeps the store side
(reservations and recording) and answers the proxy over a Unix socket (gateway.store_link).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from collector_processor.pipeline import Pipeline
from gateway.config import PROVIDERS, GatewayConfig
from gateway.proxy import GatewayProxy
from gateway.record import CallRecorder
from gateway.reservations import Reserver
from gateway.routes import ANTHROPIC, OPENAI, Route, gemini_route
from gateway.store_link import LinkServer, LocalStore
from gateway.supervise import ProxyProcess
from store.writer import StoreWriter

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RunningGateway:
    """A listening gateway: its proxy processes and the store side they talk to."""

    host: str
    proxies: list[ProxyProcess]
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def proxy(self) -> ProxyProcess:
        """The first proxy (slot 0)."""
        return self.proxies[0]

    @property
    def port(self) -> int:
        """The port the proxies listen on (the bound one when 0 was asked)."""
        return self.proxy.port

    @property
    def process(self) -> BaseProcess | None:
        """The first proxy's current process."""
        return self.proxy.process

    @property
    def url(self) -> str:
        """Base URL of the gateway."""
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop the proxy processes (they finish and settle calls in flight), then the store
        side they were talking to."""
        await asyncio.gather(*(p.stop() for p in self.proxies))
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
    """Start the proxy processes and the store side they talk to; returns once they listen."""
    reserver = Reserver(engine, ttl_s=cfg.reservation_ttl_s, request_hint=cfg.request_hint)
    folder = tempfile.mkdtemp(prefix="otelspend-gateway-")
    path, metrics_dir = os.path.join(folder, "store.sock"), os.path.join(folder, "metrics")
    os.mkdir(metrics_dir)
    db_url = engine.url.render_as_string(hide_password=False)
    proxies = [
        ProxyProcess(cfg, slot, db_url, path, metrics_dir) for slot in range(cfg.proxy_processes)
    ]
    store = LocalStore(reserver, CallRecorder(pipeline, writer))
    link = LinkServer(store, lambda slot, port: proxies[slot].ready(port))
    await link.start(path)
    running = RunningGateway(cfg.host, proxies)

    async def stop_store_side() -> None:
        await link.close()
        await asyncio.to_thread(reserver.close)
        shutil.rmtree(folder, ignore_errors=True)

    running._closers += [stop_store_side]
    try:
        await proxies[0].start()  # binds the port (the asked one, or any when 0) ...
        for other in proxies[1:]:
            other.port = proxies[0].port  # ... which the others then share
        await asyncio.gather(*(p.start() for p in proxies[1:]))
    except BaseException:
        await running.stop()
        raise
    return running
