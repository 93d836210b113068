"""Shared pytest fixtures: database URLs for both supported backends.

- ``pg_url`` (session): SQLAlchemy URL of the PostgreSQL test *server*, from
  ``OTELSPEND_TEST_PG_URL`` (``make test`` starts one and sets it). When unset,
  tests needing it are skipped locally but FAIL under CI (``CI=true``), so a
  CI run can never silently drop the PostgreSQL half of the suite.
- ``db_url`` (function, parametrized ``sqlite`` / ``postgresql``): a fresh,
  empty database per test; a test using it runs once per backend.
- ``pg_db_url`` (function): the PostgreSQL half of ``db_url`` alone.
- ``sqlite_url`` (function): the SQLite half of ``db_url`` alone.

Each PostgreSQL test database is ``CREATE DATABASE t_<uuid>`` on the server
and is dropped ``WITH (FORCE)`` afterwards, so connections a test leaves
open (an undisposed engine, say) don't block the cleanup.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

PG_URL_ENV = "OTELSPEND_TEST_PG_URL"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "postgres: needs the PostgreSQL test server (OTELSPEND_TEST_PG_URL); "
        "deselect with -m 'not postgres'",
    )
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium (tests/ui); deselect with -m 'not browser'"
    )
    config.addinivalue_line(
        "markers", "clis: runs the real Claude Code / Codex / Gemini CLIs (npm); -m clis selects"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Anything that (indirectly) needs the server gets the marker, so
    # `-m "not postgres"` deselects it; db_url's PG variant is marked by its param.
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)


def _libpq_conninfo(sqlalchemy_url: str) -> str:
    """postgresql+psycopg://... (SQLAlchemy) -> postgresql://... (libpq)."""
    return (
        make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        reason = (
            f"{PG_URL_ENV} is not set: no PostgreSQL test server "
            "(run `make test`, or `make pg-start` and export "
            f"{PG_URL_ENV}=$(scripts/pg-test-server.sh url))"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    try:
        with psycopg.connect(_libpq_conninfo(url), connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        # A configured but unreachable server is a broken setup, never a skip.
        pytest.fail(f"{PG_URL_ENV}={url} is not reachable: {exc}", pytrace=False)
    return url


@pytest.fixture(scope="session")
def _pg_admin(pg_url: str) -> Iterator[psycopg.Connection]:
    """One autocommit connection to the server's maintenance DB for the run."""
    with psycopg.connect(_libpq_conninfo(pg_url), autocommit=True) as conn:
        yield conn


@pytest.fixture
def pg_db_url(pg_url: str, _pg_admin: psycopg.Connection) -> Iterator[str]:
    name = f"t_{uuid.uuid4().hex}"
    ident = sql.Identifier(name)
    _pg_admin.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _pg_admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/otelspend.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    # getfixturevalue keeps the sqlite variant independent of the PG server.
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_db_url"))
