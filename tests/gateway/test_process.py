"""The proxy runs in its own process; stopping it (SIGTERM, as the parent's stop does) lets a
stream in flight finish and records it before the process exits."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from tests.gateway.conftest import GatewayRig
from tests.gateway.helpers import anthropic_body, wait_spend


def test_stopping_the_proxy_finishes_and_records_a_stream_in_flight(rig: GatewayRig) -> None:
    gateway = rig.live.running.gateway
    assert gateway is not None and gateway.process.pid != os.getpid()
    proxy = gateway.proxy
    rig.upstream.chunk_delay_s = 0.2
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(rig.post, "/anthropic/v1/messages", anthropic_body(stream=True))
        time.sleep(0.4)  # the stream is running
        gateway.process.terminate()
        r = fut.result(timeout=30)
    assert r.status_code == 200 and "message_stop" in r.text  # the whole stream
    # The supervisor is the only waiter on the child (a second one could misread its status).
    deadline = time.monotonic() + 30
    while not proxy.exit_codes and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proxy.exit_codes[:1] == [0]
    assert wait_spend(rig.live.db, 1) == (1, "0.012600")


def test_a_proxy_that_dies_is_started_again_on_the_same_port(rig: GatewayRig) -> None:
    gateway = rig.live.running.gateway
    assert gateway is not None and gateway.process is not None
    port, dead = gateway.port, gateway.process
    os.kill(dead.pid, signal.SIGKILL)  # type: ignore[arg-type]
    deadline = time.monotonic() + 30
    while (gateway.process is dead or gateway.proxy.restarts == 0) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gateway.proxy.restarts == 1 and gateway.port == port
    assert rig.post("/anthropic/v1/messages", anthropic_body()).status_code == 200
    assert wait_spend(rig.live.db, 1) == (1, "0.012600")
