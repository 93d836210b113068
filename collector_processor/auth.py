"""Ingest-key authentication with a short-lived cache (revocation takes effect within its TTL)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine

from collector_processor.consumer import IngestKey
from collector_processor.errors import Unauthenticated
from store.identity import find_key_by_hash, hash_key

DEFAULT_CACHE_TTL_S = 5.0


class KeyAuthenticator:
    """Resolve bearer tokens to IngestKeys by their SHA-256; never logs a token."""

    def __init__(self, engine: Engine, *, cache_ttl_s: float = DEFAULT_CACHE_TTL_S) -> None:
        self._engine = engine
        self._ttl = cache_ttl_s
        self._cache: dict[str, tuple[float, IngestKey | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, token: str | None) -> IngestKey:
        """Return the key for `token` or raise Unauthenticated."""
        if not token:
            raise Unauthenticated(
                "missing ingest key: send 'Authorization: Bearer <key>' "
                "(OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer <key>')"
            )
        key = self._lookup(hash_key(token))
        if key is None:
            raise Unauthenticated("unknown or revoked ingest key")
        return key

    def _lookup(self, digest: str) -> IngestKey | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        row = find_key_by_hash(self._engine, digest)
        key = None
        if row is not None and row.id is not None:
            key = IngestKey(
                row.id, row.org_id, row.workspace_id, row.user_id, row.trusted, row.prefix
            )
        with self._lock:
            if len(self._cache) > 10_000:  # bound memory against floods of random tokens
                self._cache.clear()
            self._cache[digest] = (now, key)
        return key


class NoAuthAuthenticator:
    """`serve --no-auth`: a valid key still counts as itself; anything else is the local key."""

    def __init__(self, keys: KeyAuthenticator, local_key: IngestKey) -> None:
        self._keys = keys
        self._local = local_key

    def authenticate(self, token: str | None) -> IngestKey:
        """Return the sender's key when valid, else the local default key."""
        if token:
            try:
                return self._keys.authenticate(token)
            except Unauthenticated:
                pass
        return self._local
