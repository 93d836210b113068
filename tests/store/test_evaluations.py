"""Evaluation tags in the store: idempotent upserts, joins whichever lands first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from collector_processor.evaluations.rows import evaluation_row
from semconv.evaluations import make_evaluation
from store.evaluations import EVALS, pending_tags, tag, trace_org, trace_tags
from store.writer import StoreWriter
from tests.store import _evals_reconcile_rows as rows
from tests.store._evals_reconcile_rows import DAY0, Ids, call, span_tuple, write

engine = rows.engine  # fixture
ids = rows.ids  # fixture
writer = rows.writer  # fixture

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def ev_row(
    ids: Ids, *, time_ns: int = DAY0, source: str = "otlp:judge", **fields: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "correctness",
        "label": "fail",
        "trace_id": TRACE,
        "span_id": SPAN,
    }
    base.update(fields)
    e = make_evaluation(**base, time_ns=time_ns, source=source)
    return evaluation_row(e, ids.org_id, ids.alice_key, time_ns)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EVALS)).scalar_one())


def test_evaluation_before_its_span_joins_when_the_span_lands(
    engine: Engine, writer: StoreWriter, ids: Ids
) -> None:
    write(writer, ids.org_id, evaluations=[ev_row(ids)])
    assert trace_org(engine, TRACE) is None  # nothing of the trace is stored yet
    (tag_view,) = trace_tags(engine, ids.org_id, TRACE)
    assert (tag_view.span_id, tag_view.label) == (SPAN, "fail")
    write(
        writer,
        ids.org_id,
        spans=[span_tuple(ids, TRACE, SPAN)],
        calls=[call(ids, "c1", 5_000, trace=TRACE, span=SPAN)],
    )
    assert trace_org(engine, TRACE) == ids.org_id
    assert [t.name for t in trace_tags(engine, ids.org_id, TRACE)] == ["correctness"]


def test_response_id_evaluation_joins_its_span_before_or_after(
    engine: Engine, writer: StoreWriter, ids: Ids
) -> None:
    early = ev_row(ids, trace_id="", span_id="", response_id="msg_early")
    write(writer, ids.org_id, evaluations=[early])
    assert [t.response_id for t in pending_tags(engine, ids.org_id)] == ["msg_early"]
    assert trace_tags(engine, ids.org_id, TRACE) == []
    # The span lands and names the response: the tag now belongs to it.
    write(
        writer,
        ids.org_id,
        spans=[span_tuple(ids, TRACE, SPAN)],
        response_links=[("msg_early", TRACE, SPAN)],
    )
    assert pending_tags(engine, ids.org_id) == []
    (joined,) = trace_tags(engine, ids.org_id, TRACE)
    assert (joined.trace_id, joined.span_id, joined.response_id) == (TRACE, SPAN, "msg_early")
    # The other order: span first, evaluation later.
    other_span = "1111111111111111"
    write(writer, ids.org_id, response_links=[("msg_late", TRACE, other_span)])
    write(
        writer,
        ids.org_id,
        evaluations=[ev_row(ids, trace_id="", span_id="", response_id="msg_late", label="pass")],
    )
    spans = sorted(t.span_id for t in trace_tags(engine, ids.org_id, TRACE))
    assert spans == sorted([SPAN, other_span])


def test_tags_are_idempotent_per_target_name_and_source(
    engine: Engine, writer: StoreWriter, ids: Ids
) -> None:
    first = ev_row(ids, time_ns=DAY0 + 10)
    write(writer, ids.org_id, evaluations=[first])
    write(writer, ids.org_id, evaluations=[dict(first)])  # an OTLP retry
    assert _count(engine) == 1
    write(writer, ids.org_id, evaluations=[ev_row(ids, time_ns=DAY0 + 20, label="pass")])
    assert [t.label for t in trace_tags(engine, ids.org_id, TRACE)] == ["pass"]
    write(writer, ids.org_id, evaluations=[ev_row(ids, time_ns=DAY0 + 5, label="stale")])
    assert [t.label for t in trace_tags(engine, ids.org_id, TRACE)] == ["pass"]  # older loses
    # Another source or another name is another tag; the same CLI tag twice stays one.
    tag(engine, [ev_row(ids, source="cli:carol", label="fail")])
    tag(engine, [ev_row(ids, source="cli:carol", label="fail")])
    write(writer, ids.org_id, evaluations=[ev_row(ids, name="toxicity", score=0.1, label=None)])
    assert _count(engine) == 3
    # Duplicates inside one batch: the latest wins, nothing fails.
    batch = [ev_row(ids, name="dup", time_ns=DAY0 + t, label=f"l{t}") for t in (3, 9, 1)]
    write(writer, ids.org_id, evaluations=batch)
    assert {t.label for t in trace_tags(engine, ids.org_id, TRACE) if t.name == "dup"} == {"l9"}


def test_tags_of_other_orgs_stay_apart(engine: Engine, writer: StoreWriter, ids: Ids) -> None:
    from store.identity import create_key

    _, other = create_key(engine, org="globex", workspace="w", user="zed")
    write(writer, ids.org_id, evaluations=[ev_row(ids)])
    write(writer, ids.org_id + 1000, response_links=[("msg_x", TRACE, SPAN)])
    assert trace_tags(engine, ids.org_id + 1000, TRACE) == []
    write(
        writer, ids.org_id, evaluations=[ev_row(ids, trace_id="", span_id="", response_id="msg_x")]
    )
    assert [t.response_id for t in pending_tags(engine, ids.org_id)] == ["msg_x"]  # not joined
    assert other.id != ids.alice_key
