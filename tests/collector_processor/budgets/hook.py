"""A webhook receiver on 127.0.0.1 for delivery tests (can be told to fail first)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hook:
    """What the receiver saw; it answers `status_on_failure` to its first `fail_first` POSTs."""

    fail_first: int = 0
    status_on_failure: int = 500
    bodies: list[dict[str, Any]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    url: str = ""
    received: threading.Event = field(default_factory=threading.Event)


@contextmanager
def webhook_receiver() -> Iterator[Hook]:
    """Run a receiver on a free loopback port for the duration of the block."""
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.times.append(time.monotonic())
            if len(state.times) <= state.fail_first:
                self.send_response(state.status_on_failure)
                self.end_headers()
                self.wfile.write(b"try later")
                return
            state.bodies.append(json.loads(body))
            self.send_response(200)
            self.end_headers()
            state.received.set()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/SECRET"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def wait_for(check: Callable[[], Any], timeout_s: float = 10.0) -> None:
    """Poll `check` every 10 ms until it is truthy; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
