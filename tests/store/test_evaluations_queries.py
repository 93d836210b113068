"""Spend by evaluation outcome, cost per passing trace, the costliest failing traces."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from store.evaluation_queries import OutcomeFilter, costliest_traces, spend_by_outcome
from store.queries import spend_by
from store.writer import StoreWriter
from tests.store import _evals_reconcile_rows as rows
from tests.store._evals_reconcile_rows import DAY0, DAY_NS, NS, Ids, call, write
from tests.store.test_evaluations import ev_row

engine = rows.engine  # fixture
ids = rows.ids  # fixture
writer = rows.writer  # fixture

A, B, C, D, E = (f"{c}" * 32 for c in "abcde")
S1, S2, S3 = "1" * 16, "2" * 16, "3" * 16
T = DAY0 + 3600 * NS


@pytest.fixture
def seeded(writer: StoreWriter, ids: Ids) -> Ids:
    calls = [
        call(ids, "a1", 3000, trace=A, span=S1),
        call(ids, "a2", 2000, trace=A, span=S2),
        call(ids, "a3", None, trace=A, span=S3, model="mystery-1"),  # unpriced
        call(ids, "a0", 99_999, trace=A, span="4" * 16, start_ns=DAY0 - 2 * DAY_NS),  # too old
        call(ids, "b1", 10_000, trace=B, span=S1, user="bob", agent="reviewer", model="gpt-5"),
        call(ids, "c1", 700, trace=C, span=S1),
        call(ids, "d1", 600, trace=D, span=S1),
        call(ids, "e1", 4000, trace=E, span=S1, user="bob", agent="reviewer"),
        call(ids, "x1", 50, trace="", span=""),  # a call without trace context
    ]
    write(writer, ids.org_id, calls=calls)
    evals = [
        ev_row(ids, trace_id=A, span_id=S1, label="fail", explanation="wrong file edited"),
        ev_row(ids, trace_id=B, span_id=S1, label="pass"),
        ev_row(ids, trace_id=D, span_id=S1, name="quality", label=None, score=0.4),
        ev_row(ids, trace_id=E, span_id=S1, label="pass", time_ns=T),
        ev_row(ids, trace_id=E, span_id="", label="FAIL", time_ns=T + NS, source="cli:lead"),
        ev_row(ids, trace_id=B, span_id=S1, name="judge", label=None, error_type="timeout"),
    ]
    write(writer, ids.org_id, evaluations=evals)
    return ids


def _by_outcome(rows: list) -> dict[str, tuple[int, int, int, int]]:  # type: ignore[type-arg]
    return {r.outcome: (r.traces, r.calls, r.cost_nanousd, r.unpriced_calls) for r in rows}


def test_spend_by_outcome_adds_up_to_the_window_spend(engine: Engine, seeded: Ids) -> None:
    f = OutcomeFilter(seeded.org_id, since_ns=DAY0, name="correctness")
    rows = spend_by_outcome(engine, f)
    assert [r.outcome for r in rows] == ["pass", "fail", "unevaluated"]  # costliest first
    assert _by_outcome(rows) == {
        "pass": (1, 1, 10_000, 0),
        "fail": (2, 4, 9_000, 1),  # A (3 calls, one unpriced) and E (latest tag: FAIL)
        "unevaluated": (2, 3, 1_350, 0),  # C, D and the call without a trace
    }
    fail = next(r for r in rows if r.outcome == "fail")
    assert fail.cost_per_trace_nanousd == 4_500
    total = sum(r.cost_nanousd for r in spend_by(engine, "org", since_ns=DAY0))
    assert sum(r.cost_nanousd for r in rows) == total


def test_score_only_evaluations_and_the_pass_threshold(engine: Engine, seeded: Ids) -> None:
    unnamed = OutcomeFilter(seeded.org_id, since_ns=DAY0)
    assert _by_outcome(spend_by_outcome(engine, unnamed))["unlabelled"] == (1, 1, 600, 0)
    strict = OutcomeFilter(seeded.org_id, since_ns=DAY0, pass_threshold=0.5)
    assert _by_outcome(spend_by_outcome(engine, strict))["fail"] == (3, 5, 9_600, 1)
    lenient = OutcomeFilter(seeded.org_id, since_ns=DAY0, pass_threshold=0.4)
    assert _by_outcome(spend_by_outcome(engine, lenient))["pass"] == (2, 2, 10_600, 0)


def test_spend_on_failing_traces_per_user_agent_model(engine: Engine, seeded: Ids) -> None:
    f = OutcomeFilter(seeded.org_id, since_ns=DAY0, name="correctness")
    by_user = spend_by_outcome(engine, f, "user", outcome="fail")
    assert [(r.group, r.traces, r.cost_nanousd) for r in by_user] == [
        ("alice", 1, 5_000),
        ("bob", 1, 4_000),
    ]
    by_model = {r.group: r.cost_nanousd for r in spend_by_outcome(engine, f, "model", "FAIL")}
    assert by_model == {"claude-sonnet-4-5": 9_000, "mystery-1": 0}
    by_agent = {(r.outcome, r.group) for r in spend_by_outcome(engine, f, "agent")}
    assert ("pass", "reviewer") in by_agent and ("fail", "coder") in by_agent
    by_ws = {r.group for r in spend_by_outcome(engine, f, "workspace", "fail")}
    assert by_ws == {"platform", "research"}


def test_span_level_counts_only_the_evaluated_call(engine: Engine, seeded: Ids) -> None:
    f = OutcomeFilter(seeded.org_id, since_ns=DAY0, name="correctness", level="span")
    fail = _by_outcome(spend_by_outcome(engine, f))["fail"]
    assert fail == (1, 1, 3_000, 0)  # A's span S1 only; E's FAIL tags the whole trace


def test_costliest_failing_traces(engine: Engine, seeded: Ids) -> None:
    f = OutcomeFilter(seeded.org_id, since_ns=DAY0, name="correctness")
    rows = costliest_traces(engine, f)
    assert [(r.trace_id, r.cost_nanousd, r.calls, r.unpriced_calls) for r in rows] == [
        (A, 5_000, 3, 1),
        (E, 4_000, 1, 0),
    ]
    top = rows[0]
    assert top.explanation == "wrong file edited" and top.evaluation == "correctness"
    assert (top.agents, top.users, top.models) == (
        ("coder",),
        ("alice",),
        ("claude-sonnet-4-5", "mystery-1"),
    )
    assert [r.trace_id for r in costliest_traces(engine, f, "pass", limit=1)] == [B]
    assert costliest_traces(engine, f, limit=1)[0].trace_id == A


def test_bad_arguments_are_refused(engine: Engine, seeded: Ids) -> None:
    with pytest.raises(ValueError, match="level"):
        OutcomeFilter(seeded.org_id, level="session")
    with pytest.raises(ValueError, match="group by"):
        spend_by_outcome(engine, OutcomeFilter(seeded.org_id), "planet")
