"""One in-process gate per SQLite database for the threads that write to it.

SQLite lets one writer in at a time; a thread that finds the database locked waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, … ms between retries, so two busy writer
threads of one process (the store writer and the gateway's reserver) would add those sleeps
to every request.  Taking this lock around each write transaction makes them queue in Python
and wake the moment the other commits.  Other processes on the same file still meet the busy
handler; PostgreSQL, with row locks, needs no gate (a no-op context).
"""

from __future__ import annotations

import threading
import weakref
from contextlib import AbstractContextManager, nullcontext

from sqlalchemy import Engine

_GATES: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def write_gate(engine: Engine) -> AbstractContextManager[object]:
    """The lock every in-process writer of `engine` holds around its write transaction."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _GUARD:
        gate = _GATES.get(engine)
        if gate is None:
            gate = _GATES[engine] = threading.Lock()
    return gate
