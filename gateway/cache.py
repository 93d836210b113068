"""Opt-in exact-match response cache for non-streaming calls, per workspace.

A request qualifies when the gateway has the cache on and the request asks for determinism
(temperature 0) or sends `x-otelspend-cache: on`; `x-otelspend-cache: off` always bypasses.
The key is the SHA-256 of (provider, path, body bytes): exact match only, never semantic.
Entries live in the store (ResponseCache, shared by every replica) or, when
`cache_redis_url` is set, in Redis (gateway.cache_redis).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy import Engine

from store import gateway as ops
from store.gateway import CachedResponse

HEADER = "x-otelspend-cache"


def qualifies(enabled: bool, headers: Mapping[str, str], body: Any, stream: bool) -> bool:
    """Whether this request may be answered from (and stored in) the cache."""
    asked = headers.get(HEADER, "").strip().lower()
    if not enabled or stream or asked in ("off", "0", "false", "no"):
        return False
    if asked in ("on", "1", "true", "yes"):
        return True
    if not isinstance(body, Mapping):
        return False
    config = body.get("generationConfig")
    temperature = config.get("temperature") if isinstance(config, Mapping) else None
    temperature = body.get("temperature", temperature)
    return (
        isinstance(temperature, int | float)
        and not isinstance(temperature, bool)
        and temperature == 0
    )


def request_hash(provider: str, path: str, raw: bytes) -> str:
    """The exact-match key of a request."""
    digest = hashlib.sha256(f"{provider}\n{path}\n".encode())
    digest.update(raw)
    return digest.hexdigest()


class CacheStore(Protocol):
    """Where entries live; blocking calls (the proxy runs them in a thread)."""

    def get(self, workspace_id: int, key: str) -> CachedResponse | None: ...

    def put(self, workspace_id: int, key: str, response: CachedResponse) -> None: ...


class ResponseCache:
    """Store-backed lookups and writes (run them in a thread: they block)."""

    def __init__(self, engine: Engine, ttl_s: float) -> None:
        if ttl_s <= 0:
            raise ValueError("cache TTL must be > 0 seconds")
        self._engine = engine
        self._ttl_ns = int(ttl_s * 1e9)

    def get(self, workspace_id: int, key: str) -> CachedResponse | None:
        """A live entry (its hit and the money saved are counted), else None."""
        return ops.cache_get(self._engine, workspace_id, key, time.time_ns())

    def put(self, workspace_id: int, key: str, response: CachedResponse) -> None:
        """Store a successful answer."""
        ops.cache_put(self._engine, workspace_id, key, response, self._ttl_ns)
