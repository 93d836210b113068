"""The single writer against SQLite and PostgreSQL: idempotency, aggregates, rollups."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from store.engine import make_engine
from store.identity import create_key, ensure_default_identity
from store.migrate import upgrade
from store.queries import spend_by
from store.tables import LlmCallRow
from store.write_ops import SPAN_INSERT_COLUMNS
from store.writer import QueueFull, StoreWriter, WriteBatch

MINUTE_NS = 60_000_000_000
T0 = 1_795_391_329 * 1_000_000_000  # 2026-11-22T23:48:49Z


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def writer(engine: Engine) -> Iterator[StoreWriter]:
    w = StoreWriter(engine)
    yield w
    w.close()


def _ids(engine: Engine) -> tuple[int, int, int]:
    org_id, ws_id, _ = ensure_default_identity(engine)
    _, info = create_key(engine, org="default", workspace="default", user="alice")
    return org_id, ws_id, info.id


def call_row(ids: tuple[int, int, int], call_id: str, **over: Any) -> dict[str, Any]:
    org_id, ws_id, key_id = ids
    row: dict[str, Any] = {
        "call_id": call_id,
        "org_id": org_id,
        "workspace_id": ws_id,
        "user_id": None,
        "user_name": "alice",
        "key_id": key_id,
        "agent": "claude-code",
        "provider": "anthropic",
        "request_model": "claude-opus-4-8",
        "response_model": "",
        "model": "claude-opus-4-8",
        "operation": "chat",
        "granularity": "call",
        "source": "span",
        "dialect": "claude_code",
        "start_ns": T0,
        "end_ns": T0 + 1000,
        "input_tokens": 1200,
        "cache_read_tokens": 5000,
        "cache_write_tokens": 800,
        "cache_write_1h_tokens": 0,
        "output_tokens": 300,
        "reasoning_tokens": 0,
        "cost_nanousd": 21_000_000,
        "client_cost_nanousd": None,
        "price_version": "test",
        "unpriced_reason": "",
        "trace_id": "",
        "span_id": "",
        "session_id": "s1",
        "service_name": "claude-code",
        "created_ns": 0,
    }
    row.update(over)
    return row


def span_row(ids: tuple[int, int, int], span_id: str) -> tuple[object, ...]:
    org_id, ws_id, key_id = ids
    values = {
        "trace_id": "ab" * 16,
        "span_id": span_id,
        "parent_span_id": "",
        "name": "chat",
        "kind": 1,
        "start_ns": T0,
        "end_ns": T0 + 5,
        "status_code": 0,
        "status_message": "",
        "org_id": org_id,
        "workspace_id": ws_id,
        "key_id": key_id,
        "service_name": "svc",
        "scope_name": "",
        "attributes": "{}",
        "resource": "{}",
        "events": "[]",
    }
    return tuple(values[c] for c in SPAN_INSERT_COLUMNS)


def _write(writer: StoreWriter, org_id: int, calls: list[dict[str, Any]], spans=()) -> Any:  # type: ignore[no-untyped-def]
    batch = WriteBatch(org_id=org_id, calls=[dict(c) for c in calls], spans=list(spans))
    return writer.submit(batch).result(timeout=30)


def _total(engine: Engine) -> tuple[int, int]:
    rows = spend_by(engine, "user")
    return sum(r.calls for r in rows), sum(r.cost_nanousd for r in rows)


def test_resent_batch_adds_nothing(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    calls = [call_row(ids, "c1"), call_row(ids, "c2", cost_nanousd=1_000)]
    spans = [span_row(ids, "01" * 8), span_row(ids, "02" * 8)]
    first = _write(writer, ids[0], calls, spans)
    second = _write(writer, ids[0], calls, spans)
    assert (first.calls_inserted, second.calls_inserted, second.calls_duplicate) == (2, 0, 2)
    assert _total(engine) == (2, 21_001_000)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from spans")).scalar() == 2


def test_user_hint_creates_user_and_groups_spend(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    _write(
        writer,
        ids[0],
        [
            call_row(ids, "c1", user_name="bob@example.com"),
            call_row(ids, "c2", user_name="unattributed"),
        ],
    )
    by_user = {r.group: r.cost_nanousd for r in spend_by(engine, "user")}
    assert by_user == {"bob@example.com": 21_000_000, "unattributed": 21_000_000}


def test_aggregate_billed_only_without_per_call_records(
    engine: Engine, writer: StoreWriter
) -> None:
    ids = _ids(engine)
    agg = call_row(ids, "agg1", granularity="aggregate", source="metric")
    _write(writer, ids[0], [agg])
    assert _total(engine) == (1, 21_000_000)  # metrics alone: the aggregate is the bill
    _write(writer, ids[0], [call_row(ids, "call1")])
    assert _total(engine) == (1, 21_000_000)  # per-call record arrives: aggregate unbilled
    _write(
        writer, ids[0], [call_row(ids, "agg2", granularity="aggregate", start_ns=T0 + MINUTE_NS)]
    )
    assert _total(engine) == (1, 21_000_000)  # later aggregate of that session: not billed
    with engine.connect() as conn:
        billed = dict(conn.execute(select(LlmCallRow.call_id, LlmCallRow.billed)).all())  # type: ignore[call-overload]
    assert {k: bool(v) for k, v in billed.items()} == {"agg1": False, "call1": True, "agg2": False}


def test_unpriced_calls_counted_not_costed(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    _write(writer, ids[0], [call_row(ids, "u1", cost_nanousd=None, model="my-custom-model")])
    [row] = spend_by(engine, "model")
    assert (row.group, row.calls, row.unpriced_calls, row.cost_nanousd) == (
        "my-custom-model",
        1,
        1,
        0,
    )


def test_duplicate_description_enriches_stored_call(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    _write(writer, ids[0], [call_row(ids, "c1", source="log", client_cost_nanousd=21_000_000)])
    _write(writer, ids[0], [call_row(ids, "c1", trace_id="ab" * 16, span_id="cd" * 8)])
    with engine.connect() as conn:
        row = conn.execute(select(LlmCallRow.trace_id, LlmCallRow.client_cost_nanousd)).one()  # type: ignore[call-overload]
    assert tuple(row) == ("ab" * 16, 21_000_000)
    assert _total(engine) == (1, 21_000_000)


def test_bad_batch_fails_alone(engine: Engine) -> None:
    ids = _ids(engine)
    w = StoreWriter(engine)
    try:
        good = w.submit(WriteBatch(org_id=ids[0], calls=[call_row(ids, "ok")]))
        bad = w.submit(WriteBatch(org_id=ids[0], calls=[call_row(ids, "bad", start_ns=None)]))
        assert good.result(timeout=30).calls_inserted == 1
        with pytest.raises(Exception):  # noqa: B017 - any DB error must surface on the future
            bad.result(timeout=30)
    finally:
        w.close()
    assert _total(engine) == (1, 21_000_000)


def test_queue_full_raises(engine: Engine) -> None:
    with pytest.raises(ValueError):
        StoreWriter(engine, queue_batches=0)
    w = StoreWriter(engine, queue_batches=1, max_group_batches=1)
    ids = _ids(engine)
    try:
        with pytest.raises(QueueFull):
            for i in range(10_000):  # the writer cannot drain 10k commits before we fill it
                w.submit(WriteBatch(org_id=ids[0], calls=[call_row(ids, f"q{i}")]))
    finally:
        w.close()


def test_call_described_twice_in_one_batch_counts_once(engine: Engine, writer: StoreWriter) -> None:
    # Gemini CLI sends api_response and its inference-details event in one request.
    ids = _ids(engine)
    first = call_row(ids, "g1", source="log")
    second = call_row(ids, "g1", source="log", client_cost_nanousd=20_000_000)
    counts = _write(writer, ids[0], [first, second])
    assert (counts.calls_inserted, counts.calls_duplicate) == (1, 1)
    assert _total(engine) == (1, 21_000_000)
    with engine.connect() as conn:
        assert conn.execute(select(LlmCallRow.client_cost_nanousd)).scalar() == 20_000_000  # type: ignore[call-overload]


@pytest.mark.parametrize("n", [1, 5, 257, 1000])
def test_batches_of_any_size_insert_every_row_once(
    engine: Engine, writer: StoreWriter, n: int
) -> None:
    # Rows go out in fixed-size multi-row statements (256, 64, 16, 4, 1): every size must
    # land each row exactly once and report exactly the rows inserted.
    ids = _ids(engine)
    calls = [call_row(ids, f"n{i}", output_tokens=300 + i) for i in range(n)]
    spans = [span_row(ids, f"{i:016x}") for i in range(n)]
    first = _write(writer, ids[0], calls, spans)
    again = _write(writer, ids[0], calls[: n // 2 + 1], spans)
    assert (first.calls_inserted, again.calls_inserted, again.calls_duplicate) == (
        n,
        0,
        n // 2 + 1,
    )
    assert _total(engine) == (n, n * 21_000_000)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from spans")).scalar() == n


def test_sqlite_statement_journals_stay_in_memory(sqlite_url: str) -> None:
    # A multi-row INSERT keeps a statement journal; on disk it cost ~10 % of the writer.
    eng = make_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA temp_store").scalar() == 2  # 2 = MEMORY
    finally:
        eng.dispose()
