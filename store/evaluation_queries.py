"""Spend by evaluation outcome: what failing, passing and unevaluated work cost.

Outcome of a trace (or, at span level, of a span) = the label of its most recent evaluation
(filtered by evaluation name when given), lower-cased.  A score-only evaluation counts as
"pass" / "fail" against `pass_threshold` when one is given, else "unlabelled".  Evaluations
whose error.type is set never decide an outcome.  Work with no evaluation is "unevaluated",
so the outcomes of a window add up to its whole billed spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Subquery, and_, case, func, literal_column, select

from store.evaluations import EVALS, resolved_evaluations
from store.tables import LlmCallRow, User, Workspace

CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]
USERS = User.__table__  # type: ignore[attr-defined]
WORKSPACES = Workspace.__table__  # type: ignore[attr-defined]
OUTCOME_GROUPINGS = ("none", "agent", "user", "model", "workspace")
LEVELS = ("trace", "span")
UNEVALUATED = "unevaluated"
UNLABELLED = "unlabelled"
_NS_PER_MINUTE = 60_000_000_000


@dataclass(frozen=True, slots=True)
class OutcomeFilter:
    """Which evaluations decide outcomes and which calls are counted."""

    org_id: int
    since_ns: int = 0
    until_ns: int | None = None
    name: str | None = None  # only evaluations with this gen_ai.evaluation.name
    level: str = "trace"  # "trace": a tag on any span labels its whole trace; "span": the call
    pass_threshold: float | None = None  # score >= threshold passes when there is no label

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {self.level!r}")


@dataclass(frozen=True, slots=True)
class OutcomeSpend:
    """Billed spend of one (outcome, group); money in integer nano-USD."""

    outcome: str
    group: str
    traces: int
    calls: int
    cost_nanousd: int
    unpriced_calls: int

    @property
    def cost_per_trace_nanousd(self) -> int | None:
        """Mean cost of one trace of this outcome (None when there is none)."""
        return None if not self.traces else _div_round(self.cost_nanousd, self.traces)


@dataclass(frozen=True, slots=True)
class TraceSpend:
    """One evaluated trace (or span) and what it cost."""

    trace_id: str
    span_id: str
    outcome: str
    cost_nanousd: int
    calls: int
    unpriced_calls: int
    start_ns: int
    evaluation: str
    score: float | None
    explanation: str
    agents: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    models: tuple[str, ...] = ()


def outcomes(f: OutcomeFilter) -> Subquery:
    """One row per evaluated trace (or span): its deciding evaluation and outcome."""
    ev = resolved_evaluations(f.org_id).where(_name_clause(f)).subquery()
    keys = [ev.c.trace_id] + ([ev.c.span_id] if f.level == "span" else [])
    rank = func.row_number().over(partition_by=keys, order_by=(ev.c.time_ns.desc(), ev.c.id.desc()))
    label = func.lower(ev.c.label)
    if f.pass_threshold is None:
        outcome = case((ev.c.label != "", label), else_=UNLABELLED)
    else:
        outcome = case(
            (ev.c.label != "", label),
            (ev.c.score.is_(None), UNLABELLED),
            (ev.c.score >= f.pass_threshold, "pass"),
            else_="fail",
        )
    ranked = (
        select(
            ev.c.trace_id,
            ev.c.span_id,
            outcome.label("outcome"),
            ev.c.name,
            ev.c.score,
            ev.c.explanation,
            rank.label("rank"),
        )
        .where(ev.c.trace_id.is_not(None), ev.c.trace_id != "")
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1).subquery()


def _name_clause(f: OutcomeFilter) -> ColumnElement[bool]:
    clause = EVALS.c.error_type == ""
    return clause if f.name is None else and_(clause, EVALS.c.name == f.name)


def _calls_joined(f: OutcomeFilter, o: Subquery) -> tuple[Any, ColumnElement[bool]]:
    """llm_calls LEFT JOIN outcomes, and the window/org condition on the calls."""
    c = CALLS.c
    on = and_(c.trace_id == o.c.trace_id, c.trace_id != "")
    if f.level == "span":
        on = and_(on, c.span_id == o.c.span_id)
    where = and_(c.org_id == f.org_id, c.billed.is_(True), c.minute >= f.since_ns // _NS_PER_MINUTE)
    if f.until_ns is not None:
        where = and_(where, c.minute < f.until_ns // _NS_PER_MINUTE)
    return CALLS.outerjoin(o, on), where


def spend_by_outcome(
    engine: Engine, f: OutcomeFilter, by: str = "none", outcome: str | None = None
) -> list[OutcomeSpend]:
    """Billed spend per outcome (and per agent/user/model/workspace), costliest first."""
    if by not in OUTCOME_GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(OUTCOME_GROUPINGS)}")
    o = outcomes(f)
    from_, where = _calls_joined(f, o)
    group_col: Any
    if by == "user":
        from_ = from_.join(USERS, USERS.c.id == CALLS.c.user_id)
        group_col = USERS.c.name
    elif by == "workspace":
        from_ = from_.join(WORKSPACES, WORKSPACES.c.id == CALLS.c.workspace_id)
        group_col = WORKSPACES.c.name
    else:
        group_col = CALLS.c[by] if by != "none" else literal_column("''")
    label = func.coalesce(o.c.outcome, UNEVALUATED)
    if outcome is not None:
        where = and_(where, label == outcome.lower())
    cost = func.sum(CALLS.c.cost_nanousd)
    stmt = select(
        label,
        group_col,
        func.count(func.distinct(func.nullif(CALLS.c.trace_id, ""))),
        func.count(),
        cost,
        func.sum(case((CALLS.c.cost_nanousd.is_(None), 1), else_=0)),
    ).select_from(from_)
    stmt = stmt.where(where).group_by(label, *([group_col] if by != "none" else []))
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(func.coalesce(cost, 0).desc(), label)).all()
    return [OutcomeSpend(str(r[0]), str(r[1] or ""), *(int(v or 0) for v in r[2:])) for r in rows]


def costliest_traces(
    engine: Engine, f: OutcomeFilter, outcome: str = "fail", limit: int = 20
) -> list[TraceSpend]:
    """The costliest traces (spans at span level) whose outcome is `outcome`."""
    o = outcomes(f)
    from_, where = _calls_joined(f, o)
    c = CALLS.c
    cost = func.coalesce(func.sum(c.cost_nanousd), 0)
    cols = (o.c.trace_id, o.c.span_id, o.c.outcome, o.c.name, o.c.score, o.c.explanation)
    stmt = (
        select(
            *cols,
            cost,
            func.count(),
            func.sum(case((c.cost_nanousd.is_(None), 1), else_=0)),
            func.min(c.start_ns),
        )
        .select_from(from_)
        .where(where, o.c.outcome == outcome.lower())
        .group_by(*cols)
        .order_by(cost.desc(), o.c.trace_id)
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
        details = _trace_details(conn, f, [r[0] for r in rows])
    out = []
    for r in rows:
        agents, users, models = details.get(r[0], ((), (), ()))
        span = r[1] if f.level == "span" else ""
        out.append(
            TraceSpend(
                r[0], span, r[2], int(r[6]), int(r[7]), int(r[8] or 0), int(r[9] or 0),
                r[3], r[4], r[5], agents, users, models,
            )
        )  # fmt: skip
    return out


def _trace_details(
    conn: Any, f: OutcomeFilter, trace_ids: list[str]
) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Distinct agents, users and models per trace (a second, small query)."""
    if not trace_ids:
        return {}
    c = CALLS.c
    stmt = (
        select(c.trace_id, c.agent, USERS.c.name, c.model)
        .select_from(CALLS.join(USERS, USERS.c.id == c.user_id))
        .where(c.org_id == f.org_id, c.trace_id.in_(trace_ids))
        .distinct()
    )
    sets: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for trace_id, agent, user, model in conn.execute(stmt):
        held = sets.setdefault(trace_id, (set(), set(), set()))
        for bucket, value in zip(held, (agent, user, model), strict=True):
            if value:
                bucket.add(value)
    return {t: tuple(tuple(sorted(s)) for s in held) for t, held in sets.items()}


def _div_round(numerator: int, denominator: int) -> int:
    """Integer division rounded half-even (money stays integer)."""
    q, r = divmod(numerator, denominator)
    twice = 2 * r
    if twice > denominator or (twice == denominator and q % 2):
        q += 1
    return q
