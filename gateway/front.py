"""The gateway's proxy process: HTTP in, provider calls out, nothing else on its interpreter.

Started by gateway.app.start_gateway (from a forkserver, never forked from the threaded
parent).  It
authenticates keys, estimates and prices calls, serves the response cache, /metrics and
/health from its own read-only view of the store, and asks the parent (gateway.store_link)
for reservations and to record calls, so the writer's and the reserver's Python work never
holds this process's interpreter lock while a stream is being relayed.

It stops on SIGTERM (sent by the parent's stop), or when the link to the parent closes (the
parent died): it stops accepting, lets calls in flight finish and settle, then exits.
Ctrl-C reaches the whole process group; the proxy ignores SIGINT and lets its parent lead.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import Engine

from collector_processor.auth import KeyAuthenticator
from collector_processor.heap import freeze_startup_heap
from collector_processor.pricing.engine import Pricer
from collector_processor.pricing.refresh import PriceBookRefresher
from gateway.cache import CacheStore, ResponseCache
from gateway.cache_redis import RedisResponseCache
from gateway.config import GatewayConfig
from gateway.metrics import GatewayMetrics
from gateway.proxy import GatewayProxy
from gateway.store_link import LinkClient
from gateway.workspaces import WorkspaceNames
from store.engine import make_engine
from store.prices import bundled_catalog

log = logging.getLogger("otelspend.gateway")


@dataclass(frozen=True, slots=True)
class FrontPlace:
    """Where one proxy process stands: its slot among the gateway's proxies, the store, the
    link to the parent and the folder the proxies share their metrics in."""

    slot: int
    db_url: str
    link_path: str
    metrics_dir: str
    log_level: int


def run_front(cfg: GatewayConfig, place: FrontPlace) -> None:
    """Process entry point (multiprocessing target)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=place.log_level,
        format=f"%(asctime)s %(levelname)s %(name)s[proxy {place.slot}]: %(message)s",
    )
    asyncio.run(_serve(cfg, place))


async def _serve(cfg: GatewayConfig, place: FrontPlace) -> None:
    metrics = GatewayMetrics(place.metrics_dir)  # first: before any other metric is made
    engine = make_engine(place.db_url)
    pricer = Pricer(bundled_catalog())
    prices = PriceBookRefresher(engine, pricer)
    prices.start()
    link = await LinkClient.connect(place.link_path)
    cache = _response_cache(cfg, engine)
    proxy = GatewayProxy(
        cfg, KeyAuthenticator(engine), pricer, link, WorkspaceNames(engine), cache, metrics
    )  # fmt: skip
    await proxy.start()
    runner = await listen(proxy, cfg)
    freeze_startup_heap()  # full GC passes no longer walk the price catalog and libraries
    link.ready(place.slot, runner.addresses[0][1])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    link.closed.add_done_callback(lambda _: stop.set())
    await stop.wait()
    await runner.cleanup()  # stop accepting; calls in flight finish
    await proxy.close()  # their settlements reach the parent
    await link.close()
    await asyncio.to_thread(prices.stop)
    engine.dispose()


def _response_cache(cfg: GatewayConfig, engine: Engine) -> CacheStore | None:
    if not cfg.cache:
        return None
    if cfg.cache_redis_url:
        return RedisResponseCache(cfg.cache_redis_url, cfg.cache_ttl_s)
    return ResponseCache(engine, cfg.cache_ttl_s)


async def listen(proxy: GatewayProxy, cfg: GatewayConfig) -> web.AppRunner:
    """Serve the gateway's routes on cfg.host:cfg.port."""
    from gateway.app import build_app

    # handler_cancellation: a client that hangs up cancels its handler at once, which closes
    # the upstream stream (the provider stops generating) and bills what was consumed.
    runner = web.AppRunner(build_app(proxy), access_log=None, handler_cancellation=True)
    await runner.setup()
    # Several proxy processes share the port: the kernel spreads connections over them.
    site = web.TCPSite(runner, cfg.host, cfg.port, reuse_port=cfg.proxy_processes > 1)
    await site.start()
    return runner
