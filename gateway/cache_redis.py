"""The gateway's response cache in Redis (`cache_redis_url`), instead of the store's table.

Same contract as gateway.cache.ResponseCache: get/put by workspace and request hash, blocking
calls (the proxy runs them in a thread).  An entry is one Redis hash with the response and
the original call's cost, expiring after the cache TTL; a hit adds to the workspace's hit
count and money saved (`otelspend:cache:saved:<workspace>`: hits, saved_nanousd), which
`savings` reads back.  Every key lives under the `otelspend:cache:` prefix.
"""

from __future__ import annotations

import math
from typing import cast

import redis

from store.gateway import CachedResponse

_PREFIX = "otelspend:cache:"


def _entry_key(workspace_id: int, request_hash: str) -> str:
    return f"{_PREFIX}{workspace_id}:{request_hash}"


def _saved_key(workspace_id: int) -> str:
    return f"{_PREFIX}saved:{workspace_id}"


class RedisResponseCache:
    """Response cache entries in Redis, with Redis's own expiry."""

    def __init__(self, url: str, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError("cache TTL must be > 0 seconds")
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._ttl_ms = max(1, math.ceil(ttl_s * 1000))

    def get(self, workspace_id: int, key: str) -> CachedResponse | None:
        """A live entry (its hit and the money saved are counted), else None."""
        fields = cast(dict[bytes, bytes], self._client.hgetall(_entry_key(workspace_id, key)))
        if not fields:
            return None
        entry = CachedResponse(
            int(fields[b"status"]), fields[b"content_type"].decode(), bytes(fields[b"body"]),
            int(fields[b"cost_nanousd"]),
        )  # fmt: skip
        pipe = self._client.pipeline(transaction=True)
        pipe.hincrby(_saved_key(workspace_id), "hits", 1)
        pipe.hincrby(_saved_key(workspace_id), "saved_nanousd", entry.cost_nanousd)
        pipe.execute()
        return entry

    def put(self, workspace_id: int, key: str, response: CachedResponse) -> None:
        """Store (or replace) a successful answer for the TTL."""
        name = _entry_key(workspace_id, key)
        mapping = {
            "status": response.status,
            "content_type": response.content_type,
            "body": response.body,
            "cost_nanousd": response.cost_nanousd,
        }
        pipe = self._client.pipeline(transaction=True)
        pipe.delete(name)
        pipe.hset(name, mapping=mapping)  # type: ignore[arg-type]
        pipe.pexpire(name, self._ttl_ms)
        pipe.execute()

    def savings(self, workspace_id: int) -> tuple[int, int]:
        """(hits, saved nano-USD) of one workspace."""
        fields = cast(dict[bytes, bytes], self._client.hgetall(_saved_key(workspace_id)))
        return int(fields.get(b"hits", 0)), int(fields.get(b"saved_nanousd", 0))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
