"""The Traces page's trace and session lists follow an agent / session id filled in after a
call was stored (cross-channel matching's UPDATE of llm_calls), on both databases.

On SQLite wide windows read trace_spend / session_spend (kept by the writer and by UPDATE
triggers); on PostgreSQL the same queries read llm_calls."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import Engine, update

from store.migrate import alembic_config, upgrade
from store.tables import LlmCallRow
from store.ui_traces import SpendGroup, TraceFilter, costliest_sessions, costliest_traces
from store.writer import StoreWriter, WriteBatch
from tests.store import test_writer
from tests.store.test_writer import _ids, call_row

engine = test_writer.engine  # fixture: a migrated store on each backend
writer = test_writer.writer  # fixture

CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
TRACE = "ab" * 16
MS = 1_000_000


def write(writer: StoreWriter, org_id: int, *rows: dict[str, Any]) -> None:
    writer.submit(WriteBatch(org_id=org_id, calls=[dict(r) for r in rows])).result(timeout=30)


def fill_in(engine: Engine, call_id: str, **values: str) -> None:
    """A plain UPDATE of a stored call, as store.call_matching.enrich_stored_primaries does."""
    with engine.begin() as conn:
        conn.execute(update(CALLS).where(CALLS.c.call_id == call_id).values(**values))


def traces(engine: Engine, org_id: int, *agents: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(trace, session, agents) of the org's traces of all time (a window wide enough for
    SQLite to read trace_spend), filtered by agent as the Traces page does."""
    found = costliest_traces(engine, TraceFilter(org_id=org_id, agents=agents))
    return [(g.id, g.session_id, g.agents) for g in found]


def sessions(engine: Engine, org_id: int, *agents: str) -> list[SpendGroup]:
    return costliest_sessions(engine, TraceFilter(org_id=org_id, agents=agents))


def test_agent_and_session_filled_in_after_the_call_was_stored(
    engine: Engine, writer: StoreWriter
) -> None:
    ids = _ids(engine)
    write(writer, ids[0], call_row(ids, "gw:1", agent="", session_id="", trace_id=TRACE))
    assert traces(engine, ids[0]) == [(TRACE, "", ())]
    assert traces(engine, ids[0], "claude-code") == []

    fill_in(engine, "gw:1", agent="claude-code", session_id="sess-1")
    assert traces(engine, ids[0], "claude-code") == [(TRACE, "sess-1", ("claude-code",))]
    [group] = costliest_traces(engine, TraceFilter(org_id=ids[0]))
    assert (group.calls, group.cost_nanousd) == (1, 21_000_000)  # counted once, not twice
    [session] = sessions(engine, ids[0], "claude-code")
    assert (session.id, session.calls, session.cost_nanousd) == ("sess-1", 1, 21_000_000)


def test_agent_filled_in_on_a_session_already_listed(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    write(writer, ids[0], call_row(ids, "gw:1", agent="", session_id="sess-2"))
    assert [s.id for s in sessions(engine, ids[0], "codex")] == []
    fill_in(engine, "gw:1", agent="codex")
    [session] = sessions(engine, ids[0], "codex")
    assert (session.id, session.calls, session.agents) == ("sess-2", 1, ("codex",))


def test_a_later_call_of_the_trace_brings_the_agent(engine: Engine, writer: StoreWriter) -> None:
    # The write path's own fill-in: the trace's first call had no agent, its second has one.
    ids = _ids(engine)
    first = call_row(ids, "gw:1", agent="", session_id="", trace_id=TRACE)
    write(writer, ids[0], first)
    later = {"start_ns": first["start_ns"] + 5_000 * MS, "end_ns": first["end_ns"] + 5_000 * MS}
    write(writer, ids[0], call_row(ids, "cc:2", trace_id=TRACE, session_id="sess-3", **later))
    assert traces(engine, ids[0], "claude-code") == [(TRACE, "sess-3", ("claude-code",))]


def test_the_migration_repairs_summaries_left_stale(engine: Engine, writer: StoreWriter) -> None:
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0009_trace_spend_fill_ins@-1")  # 0005_ui's triggers
    ids = _ids(engine)
    write(writer, ids[0], call_row(ids, "gw:1", agent="", session_id="", trace_id=TRACE))
    fill_in(engine, "gw:1", agent="claude-code", session_id="sess-1")
    upgrade(engine)
    assert traces(engine, ids[0], "claude-code") == [(TRACE, "sess-1", ("claude-code",))]
    [session] = sessions(engine, ids[0], "claude-code")
    assert (session.id, session.calls) == ("sess-1", 1)
