"""Raw DB-API bulk inserts for the hot tables.

SQLAlchemy Core spends ~15 µs per row building parameters for executemany; at 10k+ rows/s
that alone would eat a core, so the hot inserts go straight to the driver with positional
tuples, as multi-row VALUES statements (one statement step per chunk of rows instead of one
per row: response links insert ~25 % faster than with executemany).  Chunks have fixed
sizes: compiling a 512-row VALUES statement takes SQLite ~3 ms, so every batch size must
map onto a few statements the driver's cache (and psycopg's prepared statements) already
hold.  Both SQLite (3.35+) and PostgreSQL understand the same ON CONFLICT / RETURNING SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection

# Rows per statement, largest first; a batch is cut greedily into these (480 rows: 256 +
# 3 x 64 + 2 x 16).  256 rows of up to 127 columns stay under SQLite's 32766 parameters.
_CHUNK_ROWS = (256, 64, 16, 4, 1)


def _placeholder(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def _statements(
    conn: Connection, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]], tail: str
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """(SQL, flat parameters) of multi-row INSERT ... VALUES statements covering `rows`."""
    ph = "(" + ", ".join([_placeholder(conn)] * len(cols)) + ")"
    head = f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
    i = 0
    for size in _CHUNK_ROWS:
        if len(rows) - i < size:
            continue
        sql = head + ", ".join([ph] * size) + tail
        while len(rows) - i >= size:
            yield sql, tuple(chain.from_iterable(rows[i : i + size]))
            i += size


def insert_ignore(
    conn: Connection, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """INSERT rows, skipping those whose primary key already exists."""
    for sql, params in _statements(conn, table, cols, rows, " ON CONFLICT DO NOTHING"):
        conn.exec_driver_sql(sql, params)


def insert_ignore_returning(
    conn: Connection, table: str, cols: Sequence[str], rows: list[tuple[Any, ...]], key: str
) -> set[Any]:
    """INSERT rows skipping existing keys; return the `key` values really inserted.

    RETURNING, so concurrent writers (PostgreSQL replicas) can never both believe they
    inserted the same row.
    """
    inserted: set[Any] = set()
    tail = f" ON CONFLICT DO NOTHING RETURNING {key}"
    for sql, params in _statements(conn, table, cols, rows, tail):
        inserted.update(r[0] for r in conn.exec_driver_sql(sql, params))
    return inserted
