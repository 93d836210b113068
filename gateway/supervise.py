"""The gateway's proxy process (gateway.front): started, watched, restarted, stopped.

It is forked from a forkserver (a clean single-threaded parent, since this process has
threads) with the proxy's modules imported once, so a proxy starts in milliseconds.  If it
dies while the gateway runs (killed, out of memory), it is started again after a second and
the gateway keeps its port; calls in flight on the dead process are lost to their clients,
and their holds end by TTL.

Only the watcher task waits on the child: multiprocessing's forkserver hands a child's exit
status over a pipe that only one reader can drain, so a second thread polling the same
process (join, is_alive, exitcode) could read end-of-file and report 255 instead of the real
code.  Everything else learns of an exit from the watcher (`exit_codes`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import time
from multiprocessing.process import BaseProcess

from gateway.config import GatewayConfig
from gateway.front import FrontPlace, run_front

log = logging.getLogger("otelspend.gateway")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 120.0  # calls in flight finish first; streams can be long
_RESTART_DELAY_S = 1.0


class ProxyProcess:
    """One proxy child; `port` is where it listens (the asked port, or the bound one if 0)."""

    def __init__(self, cfg: GatewayConfig, slot: int, db_url: str, link_path: str,
                 metrics_dir: str) -> None:  # fmt: skip
        self._cfg = cfg
        level = logging.getLogger().getEffectiveLevel()
        self._place = FrontPlace(slot, db_url, link_path, metrics_dir, level)
        self._ready: asyncio.Future[int] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping = False
        self.process: BaseProcess | None = None
        self.port = cfg.port
        self.restarts = 0
        self.exit_codes: list[int | None] = []  # of every child that exited, oldest first

    @property
    def metrics_dir(self) -> str:
        """The folder the gateway's proxy processes share their metrics in."""
        return self._place.metrics_dir

    def ready(self, port: int) -> None:
        """The child listens (it said so over the link)."""
        if self._ready is not None and not self._ready.done():
            self._ready.set_result(port)

    async def start(self) -> None:
        """Start the child and wait until it listens; then watch it."""
        await self._spawn()
        self._watcher = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        """SIGTERM (the proxy's orderly stop: calls in flight finish and settle), then wait."""
        self._stopping = True
        watcher, proc = self._watcher, self.process
        if watcher is None or watcher.done() or proc is None:
            return
        proc.terminate()
        done, _ = await asyncio.wait([watcher], timeout=STOP_TIMEOUT_S)
        if not done:
            log.error("gateway proxy process did not stop in %s s; killing it", STOP_TIMEOUT_S)
            proc.kill()
            await asyncio.wait([watcher], timeout=5)

    async def _spawn(self) -> None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["gateway.front"])
        self._ready = asyncio.get_running_loop().create_future()
        cfg = self._cfg
        if self.port:  # a restart keeps the port even when 0 (any) was asked at first
            cfg = dataclasses.replace(cfg, port=self.port)
        proc = ctx.Process(
            target=run_front, args=(cfg, self._place), name="otelspend-gateway-proxy",
            daemon=True,
        )  # fmt: skip
        proc.start()
        self.process = proc
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._ready.done():
            if not proc.is_alive():
                raise RuntimeError(
                    f"the gateway's proxy process exited (code {proc.exitcode}) before"
                    " listening; its log above says why"
                )
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the gateway's proxy did not listen within {START_TIMEOUT_S} s")
            await asyncio.wait([self._ready], timeout=0.05)
        self.port = self._ready.result()

    async def _watch(self) -> None:
        """The only waiter on the child (see the module note); restarts it unless stopping."""
        while True:
            proc = self.process
            assert proc is not None
            await asyncio.to_thread(proc.join)
            self.exit_codes.append(proc.exitcode)
            if self._stopping:
                return
            log.error(
                "gateway proxy process exited unexpectedly (code %s); starting it again",
                proc.exitcode,
            )
            await asyncio.sleep(_RESTART_DELAY_S)
            if self._stopping:
                return
            try:
                await self._spawn()
                self.restarts += 1
            except Exception:  # noqa: BLE001 - keep trying: the gateway must come back
                log.exception("could not restart the gateway proxy process")
            if self._stopping and self.process is not None:
                self.process.terminate()  # stop() came while this child was starting
