"""The proxy runs in its own process; stopping it (SIGTERM, as the parent's stop does) lets a
stream in flight finish and records it before the process exits."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import MmapedDict

from tests.gateway.conftest import GatewayRig, gateway_config
from tests.gateway.helpers import anthropic_body, wait_spend
from tests.otelspend.conftest import run_server
from tests.otelspend.standin_upstream import StandinUpstream


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


def _served_per_process(metrics_dir: Path) -> dict[str, float]:
    """Requests each proxy process counted, from the files the processes share."""
    served: dict[str, float] = {}
    for path in metrics_dir.glob("counter_*.db"):
        rows = MmapedDict.read_all_values_from_file(str(path))
        total = sum(v for key, v, _ts, _pos in rows if "gateway_requests_total" in key)
        served[path.stem.split("_")[-1]] = total
    return served


def test_proxy_processes_share_the_port_and_every_scrape_counts_them_all(
    sqlite_url: str, upstream: StandinUpstream
) -> None:
    cfg = gateway_config(upstream, proxy_processes=2)
    for live in run_server(sqlite_url, decode_workers=0, gateway=cfg):
        rig = GatewayRig(live, upstream)
        gateway = live.running.gateway
        assert gateway is not None and len(gateway.proxies) == 2
        pids = [p.process.pid for p in gateway.proxies if p.process is not None]
        assert len(set(pids)) == 2 and {p.port for p in gateway.proxies} == {gateway.port}
        for _ in range(40):  # httpx.post: a new connection each, spread over both by the kernel
            assert rig.post("/anthropic/v1/messages", anthropic_body()).status_code == 200
        served = _served_per_process(Path(gateway.proxy.metrics_dir))
        assert sorted(served) == sorted(str(p) for p in pids)
        assert all(n > 0 for n in served.values()) and sum(served.values()) == 40
        labels = 'operation="chat",provider="anthropic",status="200"'
        line = f"otelspend_gateway_requests_total{{{labels}}}"
        for _ in range(6):  # whichever process answers the scrape sums both
            text = httpx.get(rig.url + "/metrics", timeout=10).text
            assert f"{line} 40.0" in text
        assert wait_spend(live.db, 40) == (40, "0.504000")
