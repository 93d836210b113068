"""Evaluation tags: the writer's insert step, the CLI's direct upsert, and tag listings.

A tag is one row per (org, target, name, source).  Re-sending it (an OTLP retry, a re-run of
the evaluator, a second `otelspend eval tag`) updates that row; a result older than the one
stored never overwrites it.  Response links map gen_ai.response.id to its span so a tag that
names only a response joins its span at query time — whichever of the two lands first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Select, and_, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from store.bulk import insert_ignore
from store.tables import LlmCallRow, SpanRow
from store.tables_evals import EvaluationRow, ResponseLink

if TYPE_CHECKING:
    from store.writer import WriteBatch

EVALS = EvaluationRow.__table__  # type: ignore[attr-defined]
LINKS = ResponseLink.__table__  # type: ignore[attr-defined]
EVALUATION_COLUMNS = (
    "org_id",
    "target",
    "trace_id",
    "span_id",
    "response_id",
    "name",
    "source",
    "score",
    "label",
    "explanation",
    "error_type",
    "time_ns",
    "key_id",
    "updated_ns",
)
_TAG_KEY = ("org_id", "target", "name", "source")
_UPDATED = tuple(c for c in EVALUATION_COLUMNS if c not in _TAG_KEY)
_LINK_COLUMNS = ("org_id", "response_id", "trace_id", "span_id")


def write_evaluations(conn: Connection, batches: Sequence[WriteBatch]) -> None:
    """The writer's step: insert response links, upsert tags (one statement each, if any)."""
    links = [(b.org_id, *link) for b in batches for link in b.response_links]
    if links:
        insert_ignore(conn, "response_links", _LINK_COLUMNS, links)
    rows = [row for b in batches for row in b.evaluations]
    if rows:
        upsert_evaluations(conn, rows)


def upsert_evaluations(conn: Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Insert or update tags; the latest result (by time_ns) of each tag wins. Returns rows."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[k] for k in _TAG_KEY)
        held = latest.get(key)
        if held is None or row["time_ns"] >= held["time_ns"]:
            latest[key] = row
    if not latest:
        return 0
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(EVALS)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(_TAG_KEY),
        set_={c: stmt.excluded[c] for c in _UPDATED},
        where=stmt.excluded.time_ns >= EVALS.c.time_ns,
    )
    conn.execute(stmt, [{c: r[c] for c in EVALUATION_COLUMNS} for r in latest.values()])
    return len(latest)


def tag(engine: Engine, rows: Sequence[dict[str, Any]]) -> int:
    """Store tags outside the writer (the CLI): its own short transaction."""
    with engine.begin() as conn:
        return upsert_evaluations(conn, rows)


@dataclass(frozen=True, slots=True)
class TagView:
    """A stored tag with its target resolved to a span when the response id is linked."""

    trace_id: str
    span_id: str
    response_id: str
    name: str
    source: str
    score: float | None
    label: str
    explanation: str
    error_type: str
    time_ns: int


def resolved_evaluations(org_id: int) -> Select[Any]:
    """Tags of an org with trace/span filled in from response links (NULL when unlinked)."""
    e, r = EVALS.c, LINKS.c
    linked = and_(r.org_id == e.org_id, r.response_id == e.response_id, e.trace_id == "")
    return (
        select(
            e.id,
            func.coalesce(func.nullif(e.trace_id, ""), r.trace_id).label("trace_id"),
            case((e.trace_id != "", e.span_id), else_=r.span_id).label("span_id"),
            e.response_id,
            e.name,
            e.source,
            e.score,
            e.label,
            e.explanation,
            e.error_type,
            e.time_ns,
        )
        .select_from(EVALS.outerjoin(LINKS, linked))
        .where(e.org_id == org_id)
    )


def trace_tags(engine: Engine, org_id: int, trace_id: str) -> list[TagView]:
    """Every tag on a trace or on one of its spans (directly or by response id), newest first.

    Two indexed reads rather than one filter on the resolved (coalesced) trace id, which no
    index serves: tags naming the trace, then response-id tags whose link names it.
    """
    e, r = EVALS.c, LINKS.c
    base = resolved_evaluations(org_id)
    direct = base.where(e.trace_id == trace_id)
    linked = base.where(e.trace_id == "", r.trace_id == trace_id)
    with engine.connect() as conn:
        views = [_view(row) for stmt in (direct, linked) for row in conn.execute(stmt)]
    return sorted(views, key=lambda v: (-v.time_ns, v.name, v.source))


def pending_tags(engine: Engine, org_id: int) -> list[TagView]:
    """Tags naming a response id no stored span carries yet (they join when it lands)."""
    ev = resolved_evaluations(org_id).subquery()
    stmt = select(*(ev.c[f] for f in TagView.__slots__)).where(
        or_(ev.c.trace_id.is_(None), ev.c.trace_id == "")
    )
    with engine.connect() as conn:
        return [_view(row) for row in conn.execute(stmt.order_by(ev.c.time_ns.desc()))]


def _view(row: Any) -> TagView:
    m = row._mapping
    return TagView(
        trace_id=m["trace_id"] or "",
        span_id=m["span_id"] or "",
        response_id=m["response_id"],
        name=m["name"],
        source=m["source"],
        score=m["score"],
        label=m["label"],
        explanation=m["explanation"],
        error_type=m["error_type"],
        time_ns=int(m["time_ns"]),
    )


def trace_org(engine: Engine, trace_id: str) -> int | None:
    """The org whose spans or calls carry this trace id (None when none is stored yet)."""
    with engine.connect() as conn:
        for table in (SpanRow.__table__, LlmCallRow.__table__):  # type: ignore[attr-defined]
            stmt = select(table.c.org_id).where(table.c.trace_id == trace_id).limit(1)
            org_id = conn.execute(stmt).scalar()
            if org_id is not None:
                return int(org_id)
    return None
