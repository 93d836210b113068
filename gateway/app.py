"""The gateway's aiohttp application and its start/stop, given the shared store pieces.

`otelspend serve` passes its own engine, writer, pipeline and pricer, so gateway calls share
the single writer; `otelspend gateway` (a replica) builds its own set via `standalone`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from collector_processor.pipeline import Pipeline
from collector_processor.pricing.engine import Pricer
from gateway.cache import ResponseCache
from gateway.config import PROVIDERS, GatewayConfig
from gateway.metrics import GatewayMetrics
from gateway.proxy import GatewayProxy
from gateway.record import CallRecorder
from gateway.reservations import Reserver
from gateway.routes import ANTHROPIC, OPENAI, Route, gemini_route
from gateway.workspaces import WorkspaceNames
from store.writer import StoreWriter

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RunningGateway:
    """A listening gateway; `port` is the bound one (useful when 0 was asked)."""

    host: str
    port: int
    proxy: GatewayProxy
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL of the gateway."""
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop accepting, let in-flight calls settle, close the upstream session."""
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
    cfg: GatewayConfig,
    *,
    engine: Engine,
    pipeline: Pipeline,
    writer: StoreWriter,
    pricer: Pricer,
    auth: Any,
) -> RunningGateway:
    """Listen on cfg.host:cfg.port; returns once bound."""
    reserver = Reserver(engine, ttl_s=cfg.reservation_ttl_s, request_hint=cfg.request_hint)
    cache = ResponseCache(engine, cfg.cache_ttl_s) if cfg.cache else None
    proxy = GatewayProxy(
        cfg, auth, pricer, reserver, CallRecorder(pipeline, writer), WorkspaceNames(engine),
        cache, GatewayMetrics(),
    )  # fmt: skip
    await proxy.start()
    # handler_cancellation: a client that hangs up cancels its handler at once, which closes
    # the upstream stream (the provider stops generating) and bills what was consumed.
    runner = web.AppRunner(build_app(proxy), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    running = RunningGateway(cfg.host, port, proxy)
    running._closers += [runner.cleanup, proxy.close]
    return running
