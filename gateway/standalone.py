"""`otelspend gateway` on its own (one of several replicas): its own writer on the shared store.

Budget alerting and the OTLP receivers stay with `otelspend serve`; a replica only proxies,
reserves, records and serves /metrics.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

from collector_processor.heap import freeze_startup_heap
from collector_processor.pipeline import Pipeline
from collector_processor.pricing.engine import Pricer
from collector_processor.pricing.refresh import PriceBookRefresher
from gateway.app import RunningGateway, start_gateway
from gateway.config import GatewayConfig
from otelspend.server import prepare_store
from store.prices import bundled_catalog, ensure_bundled_version
from store.writer import StoreWriter


async def run_standalone(
    db: str, cfg: GatewayConfig, on_ready: Callable[[RunningGateway], None]
) -> None:
    """Migrate, start, run until SIGINT/SIGTERM, then settle in-flight calls and drain."""
    engine = prepare_store(db)
    ensure_bundled_version(engine)
    pricer = Pricer(bundled_catalog())
    prices = PriceBookRefresher(engine, pricer)
    prices.start()
    writer = StoreWriter(engine)
    pipeline = Pipeline(writer, pricer)
    running = await start_gateway(cfg, engine=engine, pipeline=pipeline, writer=writer)
    freeze_startup_heap()  # full GC passes no longer walk the start-up heap
    on_ready(running)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()
    await asyncio.to_thread(prices.stop)
    await asyncio.to_thread(writer.close)
    engine.dispose()
