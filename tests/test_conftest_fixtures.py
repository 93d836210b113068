"""The shared database fixtures give working, empty, isolated databases."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

# Name of the PostgreSQL database the first test ran in, to check the second
# test gets a different one and the first was dropped.
_seen_pg_db: dict[str, str] = {}


def _table_names(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_db_url_is_empty_and_writable(db_url: str) -> None:
    assert _table_names(db_url) == []
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO probe (id) VALUES (1)"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM probe")).scalar_one() == 1
            if engine.dialect.name == "postgresql":
                _seen_pg_db["name"] = conn.execute(
                    sa.text("SELECT current_database()")
                ).scalar_one()
    finally:
        engine.dispose()
    assert _table_names(db_url) == ["probe"]


def test_db_url_is_isolated_from_other_tests(db_url: str) -> None:
    # The table the previous test created must not be visible here.
    assert "probe" not in _table_names(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name != "postgresql":
                return
            name = conn.execute(sa.text("SELECT current_database()")).scalar_one()
            assert name.startswith("t_") and name != "postgres"
            if "name" in _seen_pg_db:  # previous test ran in this session
                assert name != _seen_pg_db["name"]
                dropped = conn.execute(
                    sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                    {"n": _seen_pg_db["name"]},
                ).scalar_one()
                assert dropped == 0, "previous test's database was not dropped"
    finally:
        engine.dispose()


def test_sqlite_url_is_a_file_in_tmp_path(sqlite_url: str, tmp_path: Path) -> None:
    assert sqlite_url == f"sqlite:///{tmp_path}/otelspend.db"
    assert _table_names(sqlite_url) == []
