"""Read queries behind the UI's Traces page and a budget's "Why?": costliest traces/sessions.

Two paths give the same answer for traces inside a window:
- narrow windows or selective filters (user, key, model, session, unpriced): group the
  window's billed calls through the (org, minute), (org, user, minute) or (org, session)
  index; a trace's cost is that of its calls that started inside the window;
- wide windows on SQLite: walk trace_spend / session_spend (store.tables_ui) in cost
  order and keep those whose first call started in the window — the month's costliest
  traces in milliseconds instead of grouping a million calls.
The evaluation outcome of a trace comes from store.evaluation_queries.outcomes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, Table, case, func, literal, select

from store.evaluation_queries import UNEVALUATED, OutcomeFilter, outcomes
from store.evaluations import EVALS
from store.subjects import subject_names
from store.tables import LlmCallRow
from store.tables_ui import SessionSpend, TraceSpend

CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]
SUMMARIES: dict[str, Table] = {
    "trace_id": TraceSpend.__table__,  # type: ignore[attr-defined]
    "session_id": SessionSpend.__table__,  # type: ignore[attr-defined]
}
NS_PER_MINUTE = 60_000_000_000
MAX_ROWS = 500
# Beyond two days, walking the cost-ordered summary beats grouping the window's calls.
SUMMARY_MIN_WINDOW_MINUTES = 2 * 1440


@dataclass(frozen=True, slots=True)
class TraceFilter:
    """Which billed calls count, and how the traces made of them are filtered."""

    org_id: int
    start_ns: int = 0
    end_ns: int | None = None
    workspace_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()
    key_ids: tuple[int, ...] = ()
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    session_id: str = ""
    trace_id: str = ""
    outcome: str = ""  # "" any; "pass", "fail", ... or "unevaluated"
    min_cost_nanousd: int = 0
    unpriced_only: bool = False


@dataclass(frozen=True, slots=True)
class SpendGroup:
    """A trace or a session and what its calls in the window cost."""

    id: str
    start_ns: int
    end_ns: int
    calls: int
    unpriced_calls: int
    cost_nanousd: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    session_id: str = ""
    traces: int = 0
    users: tuple[str, ...] = ()
    agents: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    outcome: str = ""


def _where(f: TraceFilter, *, org_indexed: bool = True) -> list[ColumnElement[bool]]:
    c = CALLS.c
    org = c.org_id if org_indexed else unindexed(c.org_id)
    out = [org == f.org_id, c.billed.is_(True), c.minute >= f.start_ns // NS_PER_MINUTE]
    if f.end_ns is not None:
        out.append(c.minute < -(-f.end_ns // NS_PER_MINUTE))
    for values, col in (
        (f.workspace_ids, c.workspace_id),
        (f.user_ids, c.user_id),
        (f.key_ids, c.key_id),
        (f.agents, c.agent),
        (f.models, c.model),
    ):
        if values:
            out.append(col.in_(list(values)))
    if f.session_id:
        out.append(c.session_id == f.session_id)
    if f.trace_id:
        out.append(c.trace_id == f.trace_id)
    if f.unpriced_only:
        out.append(c.cost_nanousd.is_(None))
    return out


def _measures() -> list[Any]:
    c = CALLS.c
    return [
        func.min(c.start_ns),
        func.max(c.end_ns),
        func.count(),
        func.sum(case((c.cost_nanousd.is_(None), 1), else_=0)),
        func.coalesce(func.sum(c.cost_nanousd), 0),
        *(func.sum(c[t]) for t in ("input_tokens", "cache_read_tokens", "cache_write_tokens")),
        func.sum(c.output_tokens),
    ]


def _outcome_clause(f: TraceFilter, trace_id: Any) -> ColumnElement[bool]:
    """The trace's outcome is f.outcome: an IN (subquery), which SQLite materializes once
    into an index (a join against the ranked outcomes would rescan them per trace)."""
    o = outcomes(OutcomeFilter(org_id=f.org_id))
    if f.outcome.lower() == UNEVALUATED:
        return trace_id.not_in(select(o.c.trace_id))
    return trace_id.in_(select(o.c.trace_id).where(o.c.outcome == f.outcome.lower()))


def unindexed(col: Any) -> Any:
    """`col + 0`: still filters, but keeps SQLite's planner (no statistics) from choosing an
    (org_id, ...) index over the selective trace-id index for `org_id = ? AND trace_id = ?`."""
    return col + 0


def _window(f: TraceFilter) -> tuple[int, int | None]:
    end = None if f.end_ns is None else -(-f.end_ns // NS_PER_MINUTE)
    return f.start_ns // NS_PER_MINUTE, end


def _summary_fits(conn: Any, f: TraceFilter) -> bool:
    """The summary tables are kept on SQLite and carry only the first call's identity."""
    if conn.dialect.name != "sqlite":
        return False
    if f.user_ids or f.key_ids or f.models or f.session_id or f.trace_id or f.unpriced_only:
        return False
    start, end = _window(f)
    return end is None or end - start > SUMMARY_MIN_WINDOW_MINUTES


def _from_summary(f: TraceFilter, key: str, limit: int) -> Select[Any]:
    t = SUMMARIES[key].c
    start, end = _window(f)
    # "+ 0" keeps the planner off the first_minute index: walking (org, cost) in cost
    # order and stopping after `limit` matches is what makes a month's list instant.
    stmt = select(
        t[key],
        t.start_ns,
        t.end_ns,
        t.calls,
        t.unpriced_calls,
        t.cost_nanousd,
        t.input_tokens,
        t.cache_read_tokens,
        t.cache_write_tokens,
        t.output_tokens,
        t.session_id if key == "trace_id" else literal(0),
    ).where(t.org_id == f.org_id, t.calls > 0, t.first_minute + 0 >= start)
    if end is not None:
        stmt = stmt.where(t.first_minute + 0 < end)
    if f.workspace_ids:
        stmt = stmt.where(t.workspace_id.in_(list(f.workspace_ids)))
    if f.agents:
        stmt = stmt.where(t.agent.in_(list(f.agents)))
    if f.min_cost_nanousd:
        stmt = stmt.where(t.cost_nanousd >= f.min_cost_nanousd)
    if f.outcome:
        stmt = stmt.where(_outcome_clause(f, t.trace_id))
    return stmt.order_by(t.cost_nanousd.desc(), t[key].desc()).limit(min(limit, MAX_ROWS))


def _grouped(f: TraceFilter, key: Any, extra: list[Any], limit: int) -> Select[Any]:
    c = CALLS.c
    cost = func.coalesce(func.sum(c.cost_nanousd), 0)
    stmt = select(key, *_measures(), *extra).where(*_where(f), key != "")
    if f.outcome:
        stmt = stmt.where(_outcome_clause(f, c.trace_id))
    stmt = stmt.group_by(key)
    if f.min_cost_nanousd:
        stmt = stmt.having(cost >= f.min_cost_nanousd)
    return stmt.order_by(cost.desc(), key.desc()).limit(min(limit, MAX_ROWS))


def costliest_traces(engine: Engine, f: TraceFilter, limit: int = 100) -> list[SpendGroup]:
    """Traces of the window, costliest first, with their users, agents, models and outcome."""
    c = CALLS.c
    with engine.connect() as conn:
        if _summary_fits(conn, f):
            stmt = _from_summary(f, "trace_id", limit)
        else:
            stmt = _grouped(f, c.trace_id, [func.max(c.session_id)], limit)
        rows = list(conn.execute(stmt))
        ids = [r[0] for r in rows]
        who = _who(conn, f.org_id, c.trace_id, ids)
        labels = _outcomes(conn, f.org_id, ids)
    return [
        _group(
            r,
            session_id=r[10] or "",
            **who.get(r[0], {}),
            outcome=labels.get(r[0], UNEVALUATED),
        )
        for r in rows
    ]


def costliest_sessions(engine: Engine, f: TraceFilter, limit: int = 20) -> list[SpendGroup]:
    """Sessions of the window, costliest first (a session spans many traces)."""
    c = CALLS.c
    with engine.connect() as conn:
        if _summary_fits(conn, f) and not f.outcome:
            stmt = _from_summary(f, "session_id", limit)
        else:
            stmt = _grouped(f, c.session_id, [literal(0)], limit)
        rows = list(conn.execute(stmt))
        ids = [r[0] for r in rows]
        who = _who(conn, f.org_id, c.session_id, ids)
        traces = _trace_counts(conn, f.org_id, ids)
    return [
        _group(
            r,
            session_id=r[0],
            traces=traces.get(r[0], 0),
            **who.get(r[0], {}),
        )
        for r in rows
    ]


def _group(r: Any, **extra: Any) -> SpendGroup:
    """A SpendGroup from (id, start, end, calls, unpriced, cost, 4 token sums, ...)."""
    m = [int(v or 0) for v in r[1:10]]
    return SpendGroup(r[0], m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], **extra)


def _trace_counts(conn: Any, org_id: int, session_ids: list[str]) -> dict[str, int]:
    """Distinct traces of each listed session (through the (org, session) index)."""
    if not session_ids:
        return {}
    c = CALLS.c
    stmt = (
        select(c.session_id, func.count(func.distinct(func.nullif(c.trace_id, ""))))
        .where(c.org_id == org_id, c.session_id.in_(session_ids))
        .group_by(c.session_id)
    )
    return {s: int(n or 0) for s, n in conn.execute(stmt)}


def untraced_spend(engine: Engine, f: TraceFilter) -> tuple[int, int]:
    """(calls, nano-USD) in the window whose telemetry carried no trace id (e.g. Codex logs)."""
    c = CALLS.c
    # Through the trace-id index (untraced calls only), not the org's whole window.
    stmt = select(func.count(), func.coalesce(func.sum(c.cost_nanousd), 0)).where(
        *_where(f, org_indexed=False), c.trace_id == ""
    )
    with engine.connect() as conn:
        calls, cost = conn.execute(stmt).one()
    return int(calls or 0), int(cost or 0)


def _who(conn: Any, org_id: int, key: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Distinct users, agents and models of each listed trace or session (one small query)."""
    if not ids:
        return {}
    c = CALLS.c
    org = unindexed(c.org_id) if key is c.trace_id else c.org_id
    stmt = select(key, c.user_id, c.agent, c.model).where(org == org_id, key.in_(ids))
    sets: dict[str, tuple[set[int], set[str], set[str]]] = defaultdict(
        lambda: (set(), set(), set())
    )
    for ident, user, agent, model in conn.execute(stmt.distinct()):
        held = sets[ident]
        held[0].add(int(user))
        held[1].add(agent)
        held[2].add(model)
    names = subject_names(conn, "user", {u for s in sets.values() for u in s[0]})
    return {
        ident: {
            "users": tuple(sorted(names.get(u, str(u)) for u in held[0])),
            "agents": tuple(sorted(a for a in held[1] if a)),
            "models": tuple(sorted(m for m in held[2] if m)),
        }
        for ident, held in sets.items()
    }


def _outcomes(conn: Any, org_id: int, trace_ids: list[str]) -> dict[str, str]:
    if not trace_ids:
        return {}
    o = outcomes(OutcomeFilter(org_id=org_id))
    stmt = select(o.c.trace_id, o.c.outcome).where(o.c.trace_id.in_(trace_ids))
    return {t: str(label) for t, label in conn.execute(stmt)}


def outcome_labels(engine: Engine, org_id: int) -> list[str]:
    """Outcome labels seen in the org's evaluations (a filter's choices), plus 'unevaluated'.

    Distinct labels straight from the (org, trace) index: ranking every evaluation (what
    `outcomes` does to decide each trace) is not needed to list the choices."""
    e = EVALS.c
    stmt = select(func.lower(e.label)).where(e.org_id == org_id, e.label != "", e.error_type == "")
    with engine.connect() as conn:
        found = sorted({str(v) for v in conn.execute(stmt.distinct()).scalars()})
    return [*found, UNEVALUATED]
