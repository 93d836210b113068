"""Composition root: wires store, pricing, pipeline, auth and the receivers in one place."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import Engine
from sqlmodel import Session, select

from collector_processor.auth import KeyAuthenticator, NoAuthAuthenticator
from collector_processor.budget_check import budget_check_routes
from collector_processor.budgets.control import AlertingConfig, SpendControl
from collector_processor.consumer import Authenticator, IngestKey
from collector_processor.evaluations.http import evaluation_routes
from collector_processor.heap import freeze_startup_heap
from collector_processor.pipeline import Pipeline, summarize_counters
from collector_processor.prepare_pool import PreparePool
from collector_processor.pricing.engine import Pricer
from collector_processor.pricing.refresh import PriceBookRefresher
from collector_processor.pricing.unpriced import UnpricedModelWatch
from collector_processor.receiver.grpc import start_grpc_server
from collector_processor.receiver.http import build_http_app
from gateway.app import RunningGateway, start_gateway
from gateway.config import GatewayConfig
from store.checkpoint import WalCheckpointer
from store.engine import is_sqlite, make_engine
from store.identity import ensure_default_identity, hash_key
from store.migrate import upgrade
from store.prices import bundled_catalog, ensure_bundled_version
from store.tables import ApiKey
from store.writer import StoreWriter

log = logging.getLogger("otelspend")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_OTLP_GRPC_PORT = 4317
DEFAULT_OTLP_HTTP_PORT = 4318
DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024
_LOCAL_KEY_PREFIX = "osk_noauth"


_MAX_DEFAULT_DECODE_WORKERS = 4


def default_decode_workers() -> int:
    """One decode process per CPU, at most 4 (each costs ~60 MB of memory)."""
    return min(os.cpu_count() or 1, _MAX_DEFAULT_DECODE_WORKERS)


@dataclass
class ServeConfig:
    """Everything `otelspend serve` needs; validated at construction."""

    db: str
    host: str = DEFAULT_HOST
    otlp_grpc_port: int = DEFAULT_OTLP_GRPC_PORT
    otlp_http_port: int = DEFAULT_OTLP_HTTP_PORT
    no_auth: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    queue_batches: int = 64
    decode_workers: int = field(default_factory=lambda: default_decode_workers())
    alerting: AlertingConfig = field(default_factory=AlertingConfig)
    gateway: GatewayConfig | None = None  # None: no gateway (serve --no-gateway)

    def __post_init__(self) -> None:
        for name in ("otlp_grpc_port", "otlp_http_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ValueError(f"{name.replace('_', '-')} must be 0..65535, got {port}")
        if self.max_body_bytes < 1024:
            raise ValueError("max-body-bytes must be at least 1024")
        if self.decode_workers < 0:
            raise ValueError("decode-workers must be >= 0 (0 decodes in the serving process)")


@dataclass
class RunningServer:
    """Handles of a started server (ports are the bound ones, useful when 0 was asked)."""

    engine: Engine
    writer: StoreWriter
    pipeline: Pipeline
    grpc_port: int
    http_port: int
    control: SpendControl | None = None
    prices: PriceBookRefresher | None = None
    gateway: RunningGateway | None = None
    _closers: list[Callable[[], Any]] = field(default_factory=list)
    after_writer: list[Callable[[], Any]] = field(default_factory=list)

    async def stop(self) -> None:
        """Stop accepting, finish in-flight requests, drain the writer."""
        for close in reversed(self._closers):
            result = close()
            if asyncio.iscoroutine(result):
                await result
        await asyncio.to_thread(self.writer.close)
        if self.control is not None:  # after the writer: its last commits get evaluated
            await asyncio.to_thread(self.control.close)
        self.engine.dispose()


def prepare_store(db_url: str, *, manual_checkpoints: bool = False) -> Engine:
    """Open the database and migrate it to the current schema."""
    engine = make_engine(db_url, manual_checkpoints=manual_checkpoints)
    upgrade(engine)
    return engine


def _local_key(engine: Engine) -> IngestKey:
    """The key `--no-auth` traffic is attributed to (default org/workspace, user from telemetry)."""
    org_id, ws_id, _ = ensure_default_identity(engine)
    with Session(engine) as session:
        row = session.exec(select(ApiKey).where(ApiKey.prefix == _LOCAL_KEY_PREFIX)).first()
        if row is None:
            # Its hash is of an unguessable value nobody holds: the row exists for attribution.
            row = ApiKey(
                org_id=org_id,
                workspace_id=ws_id,
                prefix=_LOCAL_KEY_PREFIX,
                trusted=True,
                key_hash=hash_key(secrets.token_hex(32)),
                label="serve --no-auth traffic",
            )
            session.add(row)
            session.commit()
            session.refresh(row)
        assert row.id is not None
        return IngestKey(row.id, row.org_id, row.workspace_id, None, True, row.prefix)


async def start_server(cfg: ServeConfig) -> RunningServer:
    """Start the OTLP receivers on a migrated store; returns once both are listening."""
    engine = prepare_store(cfg.db, manual_checkpoints=is_sqlite(cfg.db))
    ensure_bundled_version(engine)
    pricer = Pricer(bundled_catalog())
    prices = PriceBookRefresher(engine, pricer)  # stored price changes reach ingest in <= 5 s
    prices.start()  # loads the stored versions and overrides before the first request
    unpriced = UnpricedModelWatch(engine)  # on_unpriced_model: a log line unless rewired
    control = SpendControl(engine, cfg.alerting)
    writer = StoreWriter(
        engine,
        queue_batches=cfg.queue_batches,
        after_commit=[control.on_commit, unpriced.after_commit],
    )
    checkpointer = WalCheckpointer(engine) if is_sqlite(cfg.db) else None
    pool = PreparePool(cfg.decode_workers) if cfg.decode_workers else None
    if pool is not None:
        await asyncio.to_thread(pool.warm_up)
    pipeline = Pipeline(writer, pricer, pool)
    control.attach(writer, pipeline)
    keys = KeyAuthenticator(engine)
    auth: Authenticator = NoAuthAuthenticator(keys, _local_key(engine)) if cfg.no_auth else keys

    def health() -> dict[str, object]:
        return {
            "queue_depth": writer.queue_depth,
            "ingest": summarize_counters(pipeline.counters),
            "last_commit_ms": round(writer.stats.last_commit_ms, 2),
            "price_version": pricer.book.versions[0].label,
            "alerting": control.health(),
        }

    grpc_server, grpc_port = await start_grpc_server(
        pipeline, auth, host=cfg.host, port=cfg.otlp_grpc_port, max_body_bytes=cfg.max_body_bytes
    )
    app = build_http_app(
        pipeline,
        auth,
        max_body_bytes=cfg.max_body_bytes,
        health=health,
        extra_routes=[
            *control.routes(),
            *evaluation_routes(writer, auth),
            *budget_check_routes(engine, auth),
        ],
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, cfg.host, cfg.otlp_http_port)
    await site.start()
    http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    running = RunningServer(engine, writer, pipeline, grpc_port, http_port, control, prices)
    running._closers.append(prices.stop)
    if cfg.gateway is not None:  # shares the writer: gateway calls commit like telemetry
        running.gateway = await start_gateway(
            cfg.gateway, engine=engine, pipeline=pipeline, writer=writer
        )
        running._closers.append(running.gateway.stop)  # closers run in reverse: stops first
    running._closers += [lambda: grpc_server.stop(grace=5), runner.cleanup]
    if pool is not None:
        running._closers.insert(0, pool.close)  # closers run in reverse: workers stop last
    if checkpointer is not None:
        running.after_writer.append(checkpointer.stop)
    return running


async def serve_forever(cfg: ServeConfig, on_ready: Callable[[RunningServer], None]) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly (queued batches are committed)."""
    running = await start_server(cfg)
    freeze_startup_heap()  # full GC passes no longer walk the start-up heap
    on_ready(running)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down: finishing in-flight requests and committing queued batches")
    await running.stop()
