"""Engine construction for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

DEFAULT_DB_URL = "sqlite:///otelspend.db"
_SQLITE_BUSY_TIMEOUT_MS = 10_000
_SQLITE_CACHE_KIB = 64 * 1024


def normalize_db_url(url: str) -> str:
    """Accept a bare path for SQLite and plain postgresql:// URLs (use psycopg 3)."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    """Tell whether a database URL names SQLite."""
    return normalize_db_url(url).startswith("sqlite")


def make_engine(
    url: str = DEFAULT_DB_URL, *, manual_checkpoints: bool = False, **kwargs: Any
) -> Engine:
    """Create an engine; SQLite gets WAL, synchronous=NORMAL and a busy timeout.

    manual_checkpoints: turn SQLite's in-commit auto-checkpoint off (the caller runs a
    store.checkpoint.WalCheckpointer instead).
    """
    url = normalize_db_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if manual_checkpoints:
            event.listen(engine, "connect", _no_auto_checkpoint)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (CLI, UI) run while the single writer commits; NORMAL is durable
    # across application crashes in WAL mode, which is what an OTLP ack promises.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
    # Statement journals (a multi-row INSERT inside a transaction keeps one, to undo itself
    # on a constraint error) spill to a file in /var/tmp past 64 KiB: one per writer batch,
    # ~10 % of the writer's time in pwrite.  Temporary storage in memory keeps them there.
    cur.execute("PRAGMA temp_store=MEMORY")
    # Random trace/call ids land all over the primary-key indexes: keep their pages cached.
    cur.execute(f"PRAGMA cache_size=-{_SQLITE_CACHE_KIB}")
    cur.close()


def _no_auto_checkpoint(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()
