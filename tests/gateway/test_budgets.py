"""Hard budgets before the call: block message and status, settle, expiry, abandoned streams,
per-call caps, the response cache, and the concurrency bound on SQLite."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import aiohttp
import httpx

from collector_processor.budgets.evaluate import CallScope
from gateway.config import CallCaps
from gateway.reservations import Blocked, Reserved, Reserver
from store.gateway import cache_savings, live_reservations
from tests.gateway.conftest import GatewayRig, gateway_config
from tests.gateway.helpers import anthropic_body, hard_budget, spend, wait_spend
from tests.otelspend.conftest import run_server
from tests.otelspend.standin_upstream import StandinUpstream


def test_a_spent_budget_blocks_before_upstream_with_the_budget_message(rig: GatewayRig) -> None:
    assert rig.post("/anthropic/v1/messages", anthropic_body()).status_code == 200
    wait_spend(rig.live.db, 1)
    bid = hard_budget(rig.live.running.engine, "alice", "0.01")
    r = rig.post("/anthropic/v1/messages", anthropic_body())
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error"
    msg = err["message"]
    assert "the hard daily budget of user alice is used up: spent $0.012600 of $0.010000" in msg
    assert "It resets " in msg and f"otelspend requests create --budget {bid}" in msg
    o = rig.post("/openai/v1/chat/completions", {"model": "gpt-5.1", "messages": []})
    assert o.status_code == 400 and "budget of user alice" in o.json()["error"]["message"]
    assert len(rig.upstream.model_calls()) == 1
    metrics = httpx.get(rig.url + "/metrics").text
    assert (
        f'otelspend_gateway_blocks_total{{budget_id="{bid}",scope="user",window="day"}} 2.0'
        in metrics
    )


def test_reservation_is_settled_to_the_actual_cost(
    sqlite_url: str, upstream: StandinUpstream
) -> None:
    cfg = gateway_config(upstream, lease_keep_warm_s=0)  # the lease ends 1 s after the call
    for live in run_server(sqlite_url, decode_workers=0, gateway=cfg):
        _settled_to_the_actual_cost(GatewayRig(live, upstream))


def _settled_to_the_actual_cost(rig: GatewayRig) -> None:
    hard_budget(rig.live.running.engine, "alice", "1")
    rig.upstream.chunk_delay_s = 0.2
    with ThreadPoolExecutor(1) as pool:
        fut = pool.submit(rig.post, "/anthropic/v1/messages", anthropic_body(stream=True))
        time.sleep(0.5)
        held = live_reservations(rig.live.running.engine)
        assert len(held) == 1 and held[0][2] > 0  # held while the stream runs
        assert fut.result().status_code == 200
    assert wait_spend(rig.live.db, 1) == (1, "0.012600")
    deadline = time.monotonic() + 5
    while live_reservations(rig.live.running.engine) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_reservations(rig.live.running.engine) == []


def test_reservations_of_a_crashed_process_expire(rig: GatewayRig) -> None:
    engine = rig.live.running.engine
    hard_budget(engine, "alice", "0.001")
    with engine.connect() as conn:
        sql = "SELECT org_id, workspace_id, user_id, id FROM api_keys WHERE user_id IS NOT NULL"
        ids = conn.exec_driver_sql(sql).first()
    scope = CallScope(*[int(x) for x in ids], model="claude-sonnet-4-5")
    crashed = Reserver(engine, ttl_s=0.5)
    first = crashed.reserve(scope, 900_000)  # $0.0009 of $0.001, never settled
    assert isinstance(first, Reserved) and first.reservation_id
    assert isinstance(crashed.reserve(scope, 200_000), Blocked)
    time.sleep(0.6)
    assert isinstance(crashed.reserve(scope, 200_000), Reserved)


def test_an_abandoned_stream_is_billed_for_what_was_consumed(rig: GatewayRig) -> None:
    rig.upstream.gate_streams = True  # the stand-in pauses after its first text delta

    async def read_then_leave() -> None:
        h = {"x-api-key": rig.live.key, "anthropic-version": "2023-06-01"}
        async with aiohttp.ClientSession() as s:
            async with s.post(rig.url + "/anthropic/v1/messages",
                              json=anthropic_body(stream=True), headers=h) as r:  # fmt: skip
                async for chunk in r.content.iter_any():
                    if b"content_block_delta" in chunk:
                        break  # seen a token: hang up

    asyncio.run(read_then_leave())
    time.sleep(0.3)
    rig.upstream.release()
    calls, cost = wait_spend(rig.live.db, 1)
    # input and cache from message_start, output so far (1 delta): never zero
    assert calls == 1 and Decimal(cost) > Decimal("0.0078")
    with rig.live.running.engine.connect() as conn:
        out = conn.exec_driver_sql("SELECT input_tokens, output_tokens FROM llm_calls").one()
    assert tuple(out) == (1200, 1)


def test_caps_clamp_or_reject(sqlite_url: str, upstream: StandinUpstream) -> None:
    caps = CallCaps(max_output_tokens=100, mode="clamp", max_call_nanousd=50_000_000)
    cfg = gateway_config(upstream, caps=caps, key_caps={"none": CallCaps(1, "reject")})
    for live in run_server(sqlite_url, decode_workers=0, gateway=cfg):
        rig = GatewayRig(live, upstream)
        assert (
            rig.post("/anthropic/v1/messages", anthropic_body(max_tokens=5000)).status_code == 200
        )
        assert upstream.model_calls()[-1].body["max_tokens"] == 100  # clamped
        big = anthropic_body(max_tokens=50, text="y" * 60_000)  # ~20k tokens at $3/M = $0.06
        r = rig.post("/anthropic/v1/messages", big)
        assert r.status_code == 400 and "per-call cap of $0.050000" in r.json()["error"]["message"]
    cfg = gateway_config(upstream, caps=CallCaps(max_output_tokens=100, mode="reject"))
    for live in run_server(sqlite_url, decode_workers=0, gateway=cfg):  # config is read at start
        rig = GatewayRig(live, upstream)
        r = rig.post("/anthropic/v1/messages", anthropic_body(max_tokens=5000))
        assert r.status_code == 400 and "above this key's cap of 100" in r.text
        assert len(upstream.model_calls()) == 1


def test_cache_hit_costs_nothing_upstream_and_records_the_saving(
    sqlite_url: str, upstream: StandinUpstream
) -> None:
    for live in run_server(
        sqlite_url, decode_workers=0, gateway=gateway_config(upstream, cache=True)
    ):
        rig = GatewayRig(live, upstream)
        body = {**anthropic_body(), "temperature": 0}
        first = rig.post("/anthropic/v1/messages", body)
        wait_spend(live.db, 1)
        time.sleep(0.3)  # the entry is stored at settlement
        second = rig.post("/anthropic/v1/messages", body)
        assert second.status_code == 200 and second.json() == first.json()
        assert second.headers["x-otelspend-cache"] == "hit"
        assert len(upstream.model_calls()) == 1
        assert cache_savings(live.running.engine) == (1, 12_600_000)
        rig.post("/anthropic/v1/messages", anthropic_body())  # temperature unset: a miss
        rig.post("/anthropic/v1/messages", body, **{"x-otelspend-cache": "off"})
        assert len(upstream.model_calls()) == 3
        assert spend(live.db)[0] in (2, 3)


def test_concurrent_calls_never_pass_the_limit_by_more_than_one_overage(rig: GatewayRig) -> None:
    # Each call reserves ~$0.0063 (1400 estimated input + 300 out at sonnet rates) and costs
    # $0.0051 (stand-in usage below); $0.05 fits 9 reservations.
    from tests.otelspend.standin_bodies import AnthropicUsage

    rig.upstream.anthropic = AnthropicUsage(1200, 300, 0, 0)
    rig.upstream.chunk_delay_s = 0.01
    hard_budget(rig.live.running.engine, "alice", "0.05")
    body = anthropic_body(stream=True, text="z" * 4200)
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda _: rig.post("/anthropic/v1/messages", body).status_code,
                              range(40)))  # fmt: skip
    ok = codes.count(200)
    assert set(codes) <= {200, 400} and 1 <= ok < 40
    calls, cost = wait_spend(rig.live.db, ok)
    assert calls == ok == len(rig.upstream.model_calls())
    assert Decimal(cost) <= Decimal("0.05")
