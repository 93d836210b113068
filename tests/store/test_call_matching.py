"""Cross-source call matching in the writer: one call described by several channels is billed
once, two real calls with equal tokens stay two, and resends change nothing (both DBs)."""

from __future__ import annotations

import importlib
import threading
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text

from store import call_matching
from store.call_matching import MATCH_WINDOW_NS
from store.engine import make_engine
from store.migrate import alembic_config, upgrade
from store.queries import spend_by
from store.tables import LlmCallRow
from store.writer import StoreWriter, WriteBatch
from tests.store import test_writer
from tests.store.test_writer import T0, _ids, call_row

MS = 1_000_000
SESSION = "cf582cc4-a356-4c3c-b614-7d624c52081b"
COST = 21_000_000  # nano-USD of the Claude Code fixture's call


engine = test_writer.engine  # fixture: a migrated store on each backend
writer = test_writer.writer  # fixture


def described(
    ids: tuple[int, int, int], call_id: str, end_ns: int, took_ms: int, **fields: Any
) -> dict[str, Any]:
    return call_row(ids, call_id, start_ns=end_ns - took_ms * MS, end_ns=end_ns, **fields)


def span(ids: tuple[int, int, int], end_ns: int, **over: Any) -> dict[str, Any]:
    """Claude Code's llm_request span of a call ending at end_ns (its own call id)."""
    row = {"source": "span", "dialect": "claude_code", "request_model": "claude-opus-4-8[1m]"}
    row |= {"trace_id": "ab" * 16, "span_id": f"{end_ns % 10**16:016x}", "session_id": SESSION}
    return described(ids, f"cc:span:{end_ns}", end_ns, 25, **row | over)


def log(ids: tuple[int, int, int], end_ns: int, **over: Any) -> dict[str, Any]:
    """Claude Code's api_request event of a call logged at end_ns, with the client's cost."""
    row: dict[str, Any] = {"source": "log", "dialect": "claude_code", "session_id": SESSION}
    row |= {"client_cost_nanousd": COST}
    return described(ids, f"cc:log:{end_ns}", end_ns, 18, **row | over)


def gateway(ids: tuple[int, int, int], end_ns: int, **over: Any) -> dict[str, Any]:
    """The gateway's record of a proxied call: no session, a dated response model."""
    row = {"source": "span", "dialect": "gateway", "agent": "", "session_id": ""}
    row |= {"response_model": "claude-opus-4-8-20261101", "trace_id": "cd" * 16}
    row |= {"span_id": "ef" * 8, "service_name": "otelspend-gateway"}
    return described(ids, f"span:gw:{end_ns}", end_ns, 900, **row | over)


def write(writer: StoreWriter, org_id: int, *rows: dict[str, Any]) -> Any:
    batch = WriteBatch(org_id=org_id, calls=[dict(r) for r in rows])
    return writer.submit(batch).result(timeout=30)


def billed(engine: Engine) -> tuple[int, int]:
    """(calls, nano-USD) of the rollups, as `otelspend spend` sums them."""
    rows = spend_by(engine, "user")
    return sum(r.calls for r in rows), sum(r.cost_nanousd for r in rows)


def stored(engine: Engine) -> dict[str, tuple[bool, str]]:
    c = LlmCallRow.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(c.call_id, c.billed, c.duplicate_of)).all()
    return {r[0]: (bool(r[1]), r[2]) for r in rows}


@pytest.mark.parametrize("span_first", [True, False])
def test_span_and_log_16ms_apart_bill_once(
    engine: Engine, writer: StoreWriter, span_first: bool
) -> None:
    ids = _ids(engine)
    s, lg = span(ids, T0), log(ids, T0 + 16 * MS)
    first, second = (s, lg) if span_first else (lg, s)
    assert write(writer, ids[0], first).calls_matched == 0
    counts = write(writer, ids[0], second)
    assert (counts.calls_inserted, counts.calls_duplicate, counts.calls_matched) == (1, 0, 1)
    assert billed(engine) == (1, COST)
    assert stored(engine) == {
        first["call_id"]: (True, ""),
        second["call_id"]: (False, first["call_id"]),
    }
    c = LlmCallRow.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        primary = conn.execute(
            select(c.client_cost_nanousd, c.trace_id).where(c.call_id == first["call_id"])
        ).one()
    assert tuple(primary) == (COST, "ab" * 16)  # each description filled what the other lacked


def test_two_real_equal_token_calls_of_one_session_stay_two(
    engine: Engine, writer: StoreWriter
) -> None:
    ids = _ids(engine)
    a, b = T0, T0 + 2_000 * MS  # same session, same tokens, 2 s apart: two real calls
    write(writer, ids[0], span(ids, a), span(ids, b))  # spans and logs in separate exports
    write(writer, ids[0], log(ids, b + 16 * MS), log(ids, a + 16 * MS))
    assert billed(engine) == (2, 2 * COST)
    got = stored(engine)
    assert got[f"cc:log:{a + 16 * MS}"] == (False, f"cc:span:{a}")  # nearest end time wins
    assert got[f"cc:log:{b + 16 * MS}"] == (False, f"cc:span:{b}")


def test_pairs_inside_one_batch_and_interleaved(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    rows = [log(ids, T0 + 16 * MS), span(ids, T0 + 3_000 * MS), span(ids, T0)]
    rows.append(log(ids, T0 + 3_016 * MS))
    counts = write(writer, ids[0], *rows)
    assert (counts.calls_inserted, counts.calls_matched) == (4, 2)
    assert billed(engine) == (2, 2 * COST)
    assert stored(engine)[f"cc:span:{T0}"] == (False, f"cc:log:{T0 + 16 * MS}")


@pytest.mark.parametrize("gateway_first", [True, False])
def test_gateway_and_client_log_bill_once(
    engine: Engine, writer: StoreWriter, gateway_first: bool
) -> None:
    ids = _ids(engine)
    gw, lg = gateway(ids, T0 + 5 * MS), log(ids, T0 + 420 * MS, request_model="claude-opus-4-8")
    for row in (gw, lg) if gateway_first else (lg, gw):
        write(writer, ids[0], row)
    assert billed(engine) == (1, COST)
    [by_agent] = spend_by(engine, "agent")
    assert by_agent.group == "claude-code"  # a gateway primary learns the agent from the log
    c = LlmCallRow.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        primary = conn.execute(
            select(c.session_id, c.trace_id, c.client_cost_nanousd).where(c.billed.is_(True))
        ).one()
    assert tuple(primary) == (SESSION, "cd" * 16, COST)


def test_three_channels_are_one_call_and_resends_change_nothing(
    engine: Engine, writer: StoreWriter
) -> None:
    ids = _ids(engine)
    rows = [gateway(ids, T0), span(ids, T0 + 40 * MS), log(ids, T0 + 56 * MS)]
    firsts = [write(writer, ids[0], r) for r in rows]
    before = stored(engine)
    resent = [write(writer, ids[0], r) for r in reversed(rows)] + [write(writer, ids[0], *rows)]
    assert [c.calls_matched for c in firsts] == [0, 1, 1]
    assert [(c.calls_inserted, c.calls_matched) for c in resent] == [(0, 0)] * 4
    assert stored(engine) == before
    assert billed(engine) == (1, COST)
    with engine.connect() as conn:
        minutes = conn.execute(text("select sum(calls), sum(cost_nanousd) from spend_minutes"))
        assert tuple(minutes.one()) == (1, COST)


def test_a_batch_joins_a_stored_call_before_pairing_within_itself(
    engine: Engine, writer: StoreWriter
) -> None:
    # The gateway's record is stored; span and log of the same call then come together.
    ids = _ids(engine)
    write(writer, ids[0], gateway(ids, T0))
    counts = write(writer, ids[0], log(ids, T0 + 56 * MS), span(ids, T0 + 40 * MS))
    assert (counts.calls_inserted, counts.calls_matched) == (2, 2)
    assert billed(engine) == (1, COST)
    assert {dup for _, dup in stored(engine).values()} == {"", f"span:gw:{T0}"}


def test_one_channel_never_pairs_with_itself(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    write(writer, ids[0], gateway(ids, T0), gateway(ids, T0 + MS, span_id="01" * 8))
    write(writer, ids[0], log(ids, T0 + 5 * MS))  # pairs with one gateway row, not both
    assert billed(engine) == (2, 2 * COST)


@pytest.mark.parametrize(
    "other",
    [
        {"end_ns": T0 + MATCH_WINDOW_NS + 1},  # outside the window
        {"session_id": "another-session"},  # both name a session, and not the same one
        {"provider": "openai"},
        {"output_tokens": 301},
        {"user_name": "bob"},  # another person's call
        {"dialect": "genai"},  # another program's call: only the gateway pairs across dialects
        {"input_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0},
    ],
)
def test_what_keeps_calls_apart(engine: Engine, writer: StoreWriter, other: dict[str, Any]) -> None:
    ids = _ids(engine)
    zero = "input_tokens" in other
    write(writer, ids[0], span(ids, T0, **(other if zero else {})))
    end = other.get("end_ns", T0 + 16 * MS)
    write(writer, ids[0], log(ids, end, **{k: v for k, v in other.items() if k != "end_ns"}))
    assert billed(engine)[0] == 2
    assert all(dup == "" for _, dup in stored(engine).values())


def test_gateway_pairs_with_any_client(engine: Engine, writer: StoreWriter) -> None:
    # A Python agent under otelspend-run (GenAI span) calling through the gateway.
    ids = _ids(engine)
    write(writer, ids[0], span(ids, T0, dialect="genai", session_id=""))
    write(writer, ids[0], gateway(ids, T0 + 3 * MS))
    assert billed(engine) == (1, COST)
    assert stored(engine)[f"span:gw:{T0 + 3 * MS}"] == (False, f"cc:span:{T0}")


def test_window_edge_still_matches(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    write(writer, ids[0], gateway(ids, T0))
    write(writer, ids[0], log(ids, T0 + MATCH_WINDOW_NS))
    assert billed(engine) == (1, COST)


def test_concurrent_writers_bill_each_call_once(db_url: str) -> None:
    # Two writers on their own engines (two replicas, or serve + a gateway process) get the
    # two descriptions of the same 40 calls at the same time.
    engines = [make_engine(db_url) for _ in range(2)]
    upgrade(engines[0])
    ids = _ids(engines[0])
    writers = [StoreWriter(e, max_group_batches=1) for e in engines]
    ends = [T0 + i * 20_000 * MS for i in range(40)]  # 20 s apart: no cross-call candidates
    feeds = [[gateway(ids, e, span_id=f"{i:016x}") for i, e in enumerate(ends)]]
    feeds.append([log(ids, e + 30 * MS) for e in ends])

    def feed(w: StoreWriter, rows: list[dict[str, Any]]) -> None:
        futures = [w.submit(WriteBatch(org_id=ids[0], calls=[dict(r)])) for r in rows]
        for f in futures:
            f.result(timeout=60)

    try:
        threads = [threading.Thread(target=feed, args=a) for a in zip(writers, feeds, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for w in writers:
            w.close()
    try:
        assert billed(engines[0]) == (40, 40 * COST)
        assert sum(1 for _, dup in stored(engines[0]).values() if dup) == 40
    finally:
        for e in engines:
            e.dispose()


def test_a_primary_remembers_its_duplicates_channels(engine: Engine, writer: StoreWriter) -> None:
    # Lookups fetch only partner channels' rows, so the gateway primary itself must say that
    # a Claude Code log already joined it: a second equal-token log is another call.
    ids = _ids(engine)
    write(writer, ids[0], gateway(ids, T0))
    write(writer, ids[0], log(ids, T0 + 20 * MS))
    write(writer, ids[0], log(ids, T0 + 40 * MS))
    assert billed(engine) == (2, 2 * COST)
    c = LlmCallRow.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        held = conn.execute(select(c.match_channels).where(c.call_id == f"span:gw:{T0}"))
        assert held.scalar_one() == "claude_code/log"
    write(writer, ids[0], span(ids, T0 + 5 * MS))  # the span still joins the first group
    assert billed(engine) == (2, 2 * COST)
    assert stored(engine)[f"cc:span:{T0 + 5 * MS}"] == (False, f"span:gw:{T0}")


def test_a_storm_of_one_channel_is_never_looked_up(engine: Engine, writer: StoreWriter) -> None:
    # 300 identical gateway calls within one bucket (a fixed-size embeddings storm, or the
    # gateway benchmark's canned answer): a new one's lookup reads none of them, yet a
    # client's description of one of them still finds it.
    ids = _ids(engine)
    rows = [gateway(ids, T0 + i * 10 * MS, span_id=f"{i:016x}") for i in range(300)]
    for i in range(0, 300, 50):
        write(writer, ids[0], *rows[i : i + 50])
    probe = gateway(ids, T0 + 3_001 * MS)
    c = LlmCallRow.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        probe["user_id"] = conn.execute(select(c.user_id).limit(1)).scalar_one()
    probe["match_key"] = call_matching.match_key(probe)
    fh = call_matching.fingerprint_hash(probe)
    assert fh is not None
    partners = call_matching.partners(("gateway", "span"))
    hashes = [fh ^ call_matching._channel_hash(p) for p in partners]
    with engine.connect() as conn:
        assert call_matching._stored_groups(conn, [(probe, hashes)]) == {}
    write(writer, ids[0], log(ids, T0 + 1_500 * MS + 2 * MS))
    assert billed(engine) == (300, 300 * COST)


def test_client_dialects_cover_every_semconv_dialect() -> None:
    # A gateway record looks for client descriptions only under these dialects' keys.
    import pkgutil

    import semconv.dialects

    found = set()
    for m in pkgutil.iter_modules(semconv.dialects.__path__):
        module = importlib.import_module(f"semconv.dialects.{m.name}")
        if hasattr(module, "DIALECT"):
            found.add(module.DIALECT)
    assert found == set(call_matching.CLIENT_DIALECTS)


def test_migration_rehashes_stored_keys_and_records_channels(db_url: str) -> None:
    # Downgrading 0009 restores fingerprint-only keys; upgrading re-hashes them per channel
    # and rebuilds match_channels from the stored duplicates.
    engine = make_engine(db_url)
    upgrade(engine)
    ids = _ids(engine)
    w = StoreWriter(engine)
    try:
        write(w, ids[0], gateway(ids, T0), log(ids, T0 + 20 * MS))
    finally:
        w.close()
    c = LlmCallRow.__table__.c  # type: ignore[attr-defined]
    keys = select(c.call_id, c.match_key).order_by(c.call_id)
    try:
        with engine.connect() as conn:
            new_keys = conn.execute(keys).all()
        command.downgrade(alembic_config(engine), "0009_match_channels@-1")
        with engine.connect() as conn:
            old_keys = conn.execute(text("select call_id, match_key from llm_calls order by 1"))
            bucket = T0 // call_matching.MATCH_BUCKET_NS << 32
            for (cid, old), (_, new) in zip(old_keys, new_keys, strict=True):
                assert old & ~0xFFFFFFFF == new & ~0xFFFFFFFF == bucket
                channel = (
                    ("gateway", "span") if cid.startswith("span:gw") else ("claude_code", "log")
                )
                assert old ^ new == call_matching._channel_hash(channel), cid
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(keys).all() == new_keys
            held = select(c.call_id, c.match_channels).where(c.match_channels != "")
            assert conn.execute(held).all() == [(f"span:gw:{T0}", "claude_code/log")]
    finally:
        engine.dispose()
