"""Raw DB-API bulk inserts for the two hot tables.

SQLAlchemy Core spends ~15 µs per row building parameters for executemany; at 10k+ rows/s
that alone would eat a core, so the hot inserts go straight to the driver with positional
tuples.  Both SQLite (3.35+) and PostgreSQL understand the same ON CONFLICT / RETURNING SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

# SQLite allows 32766 bound parameters per statement; stay well below for PostgreSQL too.
_MAX_PARAMS_PER_STATEMENT = 30_000


def _placeholder(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def insert_ignore(
    conn: Connection, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT rows, skipping those whose primary key already exists (executemany)."""
    if not rows:
        return
    ph = ", ".join([_placeholder(conn)] * len(cols))
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({ph}) ON CONFLICT DO NOTHING"
    conn.exec_driver_sql(sql, rows)


def insert_ignore_returning(
    conn: Connection, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]], key: str
) -> set[Any]:
    """INSERT rows skipping existing keys; return the `key` values really inserted.

    Multi-row VALUES with RETURNING, so concurrent writers (PostgreSQL replicas) can never
    both believe they inserted the same row.
    """
    inserted: set[Any] = set()
    if not rows:
        return inserted
    ph = "(" + ", ".join([_placeholder(conn)] * len(cols)) + ")"
    per_stmt = max(1, _MAX_PARAMS_PER_STATEMENT // len(cols))
    head = f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
    for i in range(0, len(rows), per_stmt):
        chunk = rows[i : i + per_stmt]
        sql = head + ", ".join([ph] * len(chunk)) + f" ON CONFLICT DO NOTHING RETURNING {key}"
        params = tuple(v for row in chunk for v in row)
        inserted.update(r[0] for r in conn.exec_driver_sql(sql, params))
    return inserted
