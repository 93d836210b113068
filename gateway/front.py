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

from aiohttp import web

from collector_processor.auth import KeyAuthenticator
from collector_processor.pricing.engine import Pricer
from collector_processor.pricing.refresh import PriceBookRefresher
from gateway.cache import ResponseCache
from gateway.config import GatewayConfig
from gateway.metrics import GatewayMetrics
from gateway.proxy import GatewayProxy
from gateway.store_link import LinkClient
from gateway.workspaces import WorkspaceNames
from store.engine import make_engine
from store.prices import bundled_catalog

log = logging.getLogger("otelspend.gateway")


def run_front(cfg: GatewayConfig, db_url: str, link_path: str, log_level: int) -> None:
    """Process entry point (multiprocessing target)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=log_level, format="%(asctime)s %(levelname)s %(name)s[proxy]: %(message)s"
    )
    asyncio.run(_serve(cfg, db_url, link_path))


async def _serve(cfg: GatewayConfig, db_url: str, link_path: str) -> None:
    engine = make_engine(db_url)
    pricer = Pricer(bundled_catalog())
    prices = PriceBookRefresher(engine, pricer)
    prices.start()
    link = await LinkClient.connect(link_path)
    cache = ResponseCache(engine, cfg.cache_ttl_s) if cfg.cache else None
    proxy = GatewayProxy(
        cfg, KeyAuthenticator(engine), pricer, link, WorkspaceNames(engine), cache,
        GatewayMetrics(),
    )  # fmt: skip
    await proxy.start()
    runner = await listen(proxy, cfg)
    link.ready(runner.addresses[0][1])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    link.closed.add_done_callback(lambda _: stop.set())
    await stop.wait()
    await runner.cleanup()  # stop accepting; calls in flight finish
    await proxy.close()  # their settlements reach the parent
    await link.close()
    await asyncio.to_thread(prices.stop)
    engine.dispose()


async def listen(proxy: GatewayProxy, cfg: GatewayConfig) -> web.AppRunner:
    """Serve the gateway's routes on cfg.host:cfg.port."""
    from gateway.app import build_app

    # handler_cancellation: a client that hangs up cancels its handler at once, which closes
    # the upstream stream (the provider stops generating) and bills what was consumed.
    runner = web.AppRunner(build_app(proxy), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.port)
    await site.start()
    return runner
