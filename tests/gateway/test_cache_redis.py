"""The response cache in Redis (`cache_redis_url`): hits, savings, TTL and workspace scope,
against a real redis-server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from gateway.cache_redis import RedisResponseCache
from gateway.config import load_config
from store.gateway import CachedResponse, cache_savings
from tests.gateway.conftest import GatewayRig, gateway_config
from tests.gateway.helpers import anthropic_body, spend, wait_spend
from tests.otelspend.conftest import run_server
from tests.otelspend.standin_upstream import StandinUpstream


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[str]:
    """The shared test server, emptied before and after a test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield redis_url
    client.flushdb()
    client.close()


def test_a_hit_comes_from_redis_and_costs_nothing_upstream(
    sqlite_url: str, upstream: StandinUpstream, clean_redis: str
) -> None:
    redis_url = clean_redis
    cfg = gateway_config(upstream, cache=True, cache_redis_url=redis_url, cache_ttl_s=60)
    for live in run_server(sqlite_url, decode_workers=0, gateway=cfg):
        rig = GatewayRig(live, upstream)
        body = {**anthropic_body(text="cached in redis"), "temperature": 0}
        first = rig.post("/anthropic/v1/messages", body)
        wait_spend(live.db, 1)
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 5
        while not client.keys("otelspend:cache:*:*") and time.monotonic() < deadline:
            time.sleep(0.05)  # the entry is stored at settlement
        [entry] = [k for k in client.keys("otelspend:cache:*") if b":saved:" not in k]
        assert 0 < client.pttl(entry) <= 60_000
        second = rig.post("/anthropic/v1/messages", body)
        assert second.status_code == 200 and second.json() == first.json()
        assert second.headers["x-otelspend-cache"] == "hit"
        assert len(upstream.model_calls()) == 1 and spend(live.db)[0] == 1
        workspace = int(entry.decode().split(":")[2])
        assert RedisResponseCache(redis_url, 60).savings(workspace) == (1, 12_600_000)
        assert cache_savings(live.running.engine) == (0, 0)  # nothing in the store's table
        client.close()


def test_entries_expire_and_stay_in_their_workspace(clean_redis: str) -> None:
    cache = RedisResponseCache(clean_redis, ttl_s=0.3)
    answer = CachedResponse(200, "application/json", b'{"ok": true}', 12_600_000)
    cache.put(7, "abc", answer)
    assert cache.get(7, "abc") == answer
    assert cache.get(8, "abc") is None  # another workspace never sees it
    time.sleep(0.5)
    assert cache.get(7, "abc") is None
    assert cache.savings(7) == (1, 12_600_000) and cache.savings(8) == (0, 0)
    cache.close()


def test_a_bad_redis_url_is_refused_with_the_key_named(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text('cache = true\ncache_redis_url = "localhost:6379"\n')
    with pytest.raises(ValueError, match="cache_redis_url must start with one of redis://"):
        load_config(str(path), env={})
