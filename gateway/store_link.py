"""The link between the gateway's proxy process and the process that owns the store side.

The proxy (gateway.front) runs in its own process so that nothing but request handling
competes for its interpreter lock: reservations and the recording of calls (the store
writer's Python work) run in the parent, `otelspend serve` or `otelspend gateway`, which
already owns the writer, the reserver and SQLite's in-process write gate.

Frames on a Unix socket: 4-byte big-endian length, then a pickled tuple.  The proxy sends
(request id, verb, *args); the parent answers (request id, ok, value).  Verbs:

- "reserve" (scope, estimate, want nano-USD) -> Reserved | Blocked: a lease (gateway.leases)
- "record" (facts, bill, lease id | None) -> cost nano-USD | None, once the call is
  committed; the parent then charges the cost to the lease's hold (after the commit:
  counted twice for a moment, never zero times)
- "release" (reservation ids) -> how many were asked to go
- "ready" (slot, port), sent once by each proxy process when it listens; the parent answers
  nothing.  Every proxy process has its own connection to the one LinkServer.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import pickle
import struct
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from collector_processor.budgets.evaluate import CallScope
from gateway.record import CallFacts, CallRecorder
from gateway.reservations import Blocked, Reserved, Reserver

log = logging.getLogger("otelspend.gateway")
_HEADER = struct.Struct(">I")
MAX_FRAME = 64 * 1024 * 1024


class LinkClosed(ConnectionError):
    """The other process went away; answers in flight are lost."""


class StoreError(RuntimeError):
    """The store side failed to do what was asked (the message says why)."""


async def read_frame(reader: asyncio.StreamReader) -> tuple[Any, ...]:
    """One frame, or LinkClosed at end of stream."""
    try:
        head = await reader.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(head)
        if size > MAX_FRAME:
            raise LinkClosed(f"frame of {size} bytes exceeds {MAX_FRAME}")
        frame: tuple[Any, ...] = pickle.loads(await reader.readexactly(size))
        return frame
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise LinkClosed("gateway store link closed") from exc


def write_frame(writer: asyncio.StreamWriter, frame: tuple[Any, ...]) -> None:
    """Queue one frame (a single write: frames never interleave)."""
    data = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    writer.write(_HEADER.pack(len(data)) + data)


class StoreSide(Protocol):
    """What the proxy asks of the store side (LocalStore in-process, LinkClient over the link)."""

    async def reserve(
        self, scope: CallScope, estimate_nanousd: int, want_nanousd: int
    ) -> Reserved | Blocked: ...

    async def record(self, facts: CallFacts, bill: bool, lease_id: str | None) -> int | None: ...

    async def release(self, reservation_ids: list[str]) -> int: ...


class LocalStore:
    """The store side, in the process that owns the reserver and the writer."""

    def __init__(self, reserver: Reserver, recorder: CallRecorder) -> None:
        self.reserver = reserver
        self.recorder = recorder

    async def reserve(
        self, scope: CallScope, estimate_nanousd: int, want_nanousd: int
    ) -> Reserved | Blocked:
        return await asyncio.wrap_future(
            self.reserver.submit(scope, estimate_nanousd, want_nanousd)
        )

    async def record(self, facts: CallFacts, bill: bool, lease_id: str | None) -> int | None:
        cost = await self.recorder.record(facts, bill=bill)
        if lease_id and cost:
            await asyncio.wrap_future(self.reserver.submit_charge([(lease_id, cost)]))
        return cost

    async def release(self, reservation_ids: list[str]) -> int:
        return await asyncio.wrap_future(self.reserver.submit_release(reservation_ids))


class LinkServer:
    """The parent's end: answers one proxy process's requests with a LocalStore."""

    def __init__(self, store: LocalStore, on_ready: Callable[[int, int], None]) -> None:
        self._store = store
        self._on_ready = on_ready
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self._verbs: dict[str, Callable[..., Awaitable[Any]]] = {
            "reserve": store.reserve,
            "record": store.record,
            "release": store.release,
        }

    async def start(self, path: str) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=path)

    async def close(self) -> None:
        """Stop listening, finish every request in flight, close the connections."""
        if self._server is not None:
            self._server.close()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        for writer in self._connections.values():
            writer.close()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        me = asyncio.current_task()
        assert me is not None
        self._connections[me] = writer
        try:
            while True:
                frame = await read_frame(reader)
                if frame[0] == "ready":
                    self._on_ready(int(frame[1]), int(frame[2]))
                    continue
                task = asyncio.get_running_loop().create_task(self._answer(writer, frame))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except LinkClosed:
            pass
        finally:
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
            writer.close()
            del self._connections[me]

    async def _answer(self, writer: asyncio.StreamWriter, frame: tuple[Any, ...]) -> None:
        rid, verb, *args = frame
        try:
            value = await self._verbs[verb](*args)
            reply: tuple[Any, ...] = (rid, True, value)
        except Exception as exc:  # noqa: BLE001 - the proxy reports it (fail closed)
            log.exception("gateway store request %r failed", verb)
            reply = (rid, False, f"{type(exc).__name__}: {exc}")
        if not writer.is_closing():
            write_frame(writer, reply)


class LinkClient:
    """The proxy's end: the same three calls as LocalStore, answered by the parent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._reading = asyncio.get_running_loop().create_task(self._read())
        self.closed = asyncio.get_running_loop().create_future()

    @classmethod
    async def connect(cls, path: str) -> LinkClient:
        reader, writer = await asyncio.open_unix_connection(path)
        return cls(reader, writer)

    def ready(self, slot: int, port: int) -> None:
        write_frame(self._writer, ("ready", slot, port))

    async def reserve(
        self, scope: CallScope, estimate_nanousd: int, want_nanousd: int
    ) -> Reserved | Blocked:
        value: Reserved | Blocked = await self._ask(
            "reserve", scope, estimate_nanousd, want_nanousd
        )
        return value

    async def record(self, facts: CallFacts, bill: bool, lease_id: str | None) -> int | None:
        value: int | None = await self._ask("record", facts, bill, lease_id)
        return value

    async def release(self, reservation_ids: list[str]) -> int:
        value: int = await self._ask("release", list(reservation_ids))
        return value

    async def close(self) -> None:
        self._writer.close()
        await asyncio.gather(self._reading, return_exceptions=True)

    async def _ask(self, verb: str, *args: Any) -> Any:
        if self.closed.done():
            raise LinkClosed("gateway store link closed")
        rid = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        write_frame(self._writer, (rid, verb, *args))
        return await fut

    async def _read(self) -> None:
        try:
            while True:
                rid, ok, value = await read_frame(self._reader)
                fut = self._waiting.pop(rid, None)
                if fut is None or fut.done():
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(StoreError(value))
        except LinkClosed as exc:
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(LinkClosed(str(exc)))
            self._waiting.clear()
            if not self.closed.done():
                self.closed.set_result(None)
