"""Re-price stored calls under the current price book, rollups and audit in one transaction.

Two phases keep the write lock short.  Phase 1 streams the calls from a read snapshot and
prices each one (a pure function of the call's immutable fields and the book), keeping
only those whose price changes.  Phase 2 opens ONE write transaction, re-reads the current
state of just those calls (an aggregate may have been unbilled meanwhile), moves their
costs between rollup rows by delta, updates them and writes the audit row; all or nothing.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, or_, select, update

from collector_processor.pricing.engine import NO_USAGE_REASON, Pricer
from collector_processor.pricing.model_ids import infer_provider, normalize_model_id
from semconv.dialects.usage import NO_USAGE
from semconv.records import LlmCall
from store.audit import entity_path, record
from store.tables import ROLLUP_DIMENSIONS, ROLLUP_MEASURES, LlmCallRow
from store.write_ops import _add_deltas, _apply_rollup  # the hot path's own rollup arithmetic

CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]
PRICE_FIELDS = ("cost_nanousd", "price_version", "model", "provider", "unpriced_reason")
_TOKENS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
           "output_tokens", "reasoning_tokens")  # fmt: skip
_READ_COLUMNS = ("call_id", *ROLLUP_DIMENSIONS, "provider", "request_model", "response_model",
                 "granularity", "billed", "start_ns", *_TOKENS, "cost_nanousd", "price_version",
                 "unpriced_reason")  # fmt: skip
_CHUNK_ROWS = 500
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PROGRESS_EVERY = 20_000
_HOSTING_PLATFORMS = ("aws", "google")  # ids whose platform the id itself names

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(slots=True)
class ModelTotals:
    """Billed calls of one model in the repriced range, before and after."""

    calls: int = 0
    changed: int = 0
    before_nanousd: int = 0
    after_nanousd: int = 0
    unpriced_before: int = 0
    unpriced_after: int = 0


@dataclass(slots=True)
class RepriceReport:
    """What a reprice found (dry run) or did."""

    since: datetime
    model: str | None
    dry_run: bool
    calls: int = 0  # calls in the range (billed or not) matching the model filter
    changed: int = 0  # calls whose stored price fields change
    cost_changed: int = 0  # ... of which the cost (or priced/unpriced state) changes
    by_model: dict[str, ModelTotals] = field(default_factory=dict)

    def totals(self) -> ModelTotals:
        """Sum over every model."""
        out = ModelTotals()
        for t in self.by_model.values():
            for name in ModelTotals.__dataclass_fields__:
                setattr(out, name, getattr(out, name) + getattr(t, name))
        return out


def reprice(
    engine: Engine,
    pricer: Pricer,
    *,
    since: datetime,
    model: str | None = None,
    dry_run: bool = False,
    actor: str = "",
    progress: Progress | None = None,
) -> RepriceReport:
    """Recompute the price of every call started at or after `since` (optionally one model)."""
    report = RepriceReport(since, model, dry_run)
    changes = _price_calls(engine, pricer, report, progress)
    if not dry_run:
        _write(engine, changes, report, actor, progress)
    return report


def _price_calls(
    engine: Engine, pricer: Pricer, report: RepriceReport, progress: Progress | None
) -> dict[str, dict[str, Any]]:
    """Phase 1: price every call of the range; return the new price fields of changed calls."""
    since_ns = (report.since - _EPOCH) // timedelta(microseconds=1) * 1000
    wanted = _model_ref(report.model)
    where = [CALLS.c.start_ns >= since_ns]
    if wanted:
        like = f"%{wanted}%"
        cols = (CALLS.c.model, CALLS.c.request_model, CALLS.c.response_model)
        where.append(or_(*(func.lower(c).like(like) for c in cols)))
    changes: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(CALLS).where(*where)).scalar_one()
        stmt = select(*(CALLS.c[n] for n in _READ_COLUMNS)).where(*where)
        rows = conn.execution_options(yield_per=_CHUNK_ROWS).execute(stmt)
        for done, row in enumerate(rows, start=1):
            old = dict(zip(_READ_COLUMNS, row, strict=True))
            call = call_of(old)
            new = new_price_fields(pricer, call, old)
            if wanted is None or _matches(wanted, old, new, pricer, call):
                if _tally(report, old, new):
                    changes[old["call_id"]] = new
            if progress is not None and done % _PROGRESS_EVERY == 0:
                progress("pricing", done, total)
    return changes


def call_of(row: dict[str, Any]) -> LlmCall:
    """Rebuild the canonical call a stored row was priced from (what pricing reads of it)."""
    start = row["start_ns"]
    # Positional: this runs once per stored call, and keyword NamedTuple building is slower.
    call = LlmCall(row["call_id"], row["granularity"], "", "", reported_provider(row),
                   row["request_model"], row["response_model"], "", start, start,
                   *(row[t] for t in _TOKENS))  # fmt: skip
    if row.get("unpriced_reason") == NO_USAGE_REASON:
        call = call._replace(extra=NO_USAGE.extra())  # no tokens known: stays unpriced, not $0
    return call


def reported_provider(row: dict[str, Any]) -> str:
    """The provider to price a stored call with.

    The row keeps the catalog's provider id, which maps to itself, so pricing from it finds
    what pricing from the reported name found, except where a platform id (Bedrock, Vertex)
    was priced at the vendor's list price: the id itself names the platform, so use that.
    """
    return _provider_for(row["provider"], row["response_model"] or row["request_model"])


@functools.lru_cache(maxsize=8192)
def _provider_for(stored_provider: str, model: str) -> str:
    platform = infer_provider(normalize_model_id("", model)[1])
    return platform if platform in _HOSTING_PLATFORMS else stored_provider


def new_price_fields(pricer: Pricer, call: LlmCall, row: dict[str, Any]) -> dict[str, Any]:
    """The stored price fields of a call priced now, exactly as the ingest pipeline sets them."""
    price = pricer.price(call, row["org_id"], row["workspace_id"])
    return {
        "cost_nanousd": price.cost_nanousd,
        "price_version": price.price_version,
        "model": price.priced_model or call.model,
        "provider": price.provider_id or row["provider"],
        "unpriced_reason": price.reason,
    }


def _model_ref(model: str | None) -> str | None:
    return None if not model else normalize_model_id("", model)[1]


def _matches(
    wanted: str, old: dict[str, Any], new: dict[str, Any], pricer: Pricer, call: LlmCall
) -> bool:
    names = {old["model"].lower(), new["model"].lower()}
    names.update(ref for _, ref in pricer.candidates(call.provider, call.model))
    return wanted in names


def _tally(report: RepriceReport, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Count a call into the report; return whether its stored price fields change."""
    report.calls += 1
    changed = any(old[f] != new[f] for f in PRICE_FIELDS)
    cost_changed = old["cost_nanousd"] != new["cost_nanousd"] or old["model"] != new["model"]
    report.changed += changed
    report.cost_changed += cost_changed
    if not old["billed"]:
        return changed  # superseded aggregates count towards no spend
    t = report.by_model.get(new["model"])
    if t is None:
        t = report.by_model[new["model"]] = ModelTotals()
    t.calls += 1
    t.changed += cost_changed
    t.before_nanousd += old["cost_nanousd"] or 0
    t.after_nanousd += new["cost_nanousd"] or 0
    t.unpriced_before += old["cost_nanousd"] is None
    t.unpriced_after += new["cost_nanousd"] is None
    return changed


def _write(
    engine: Engine,
    changes: dict[str, dict[str, Any]],
    report: RepriceReport,
    actor: str,
    progress: Progress | None,
) -> None:
    """Phase 2: one transaction for the calls, the rollups and the audit row."""
    ids = sorted(changes)
    deltas: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0] * len(ROLLUP_MEASURES))
    with engine.begin() as conn:
        _take_write_lock(conn)
        for start in range(0, len(ids), _CHUNK_ROWS):
            chunk = ids[start : start + _CHUNK_ROWS]
            current = _current_rows(conn, chunk)
            billed_old = [r for r in current if r["billed"]]
            billed_new = [{**r, **changes[r["call_id"]]} for r in billed_old]
            _add_deltas(deltas, billed_old, -1)
            _add_deltas(deltas, billed_new, +1)
            _update_calls(conn, [{"cid": r["call_id"], **changes[r["call_id"]]} for r in current])
            if progress is not None:
                progress("writing", min(start + _CHUNK_ROWS, len(ids)), len(ids))
        # Sorted: concurrent upserts on PostgreSQL then lock rollup rows in one order.
        _apply_rollup(conn, dict(sorted(deltas.items(), key=lambda kv: tuple(map(str, kv[0])))))
        before, after = _audit_totals(report)
        entity = entity_path("*", "price-reprice", before["since"])
        record(conn, actor, "prices.reprice", entity, before, after)


def _take_write_lock(conn: Connection) -> None:
    """Make the transaction a writer before it reads (SQLite: a read snapshot taken first
    could not be upgraded once the ingest writer commits; it would fail with SQLITE_BUSY)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE price_overrides SET id = id WHERE 0 = 1")


def _current_rows(conn: Connection, ids: Sequence[str]) -> list[dict[str, Any]]:
    cols = ("call_id", *ROLLUP_DIMENSIONS, "billed", "cost_nanousd", *_TOKENS)
    stmt = select(*(CALLS.c[n] for n in cols)).where(CALLS.c.call_id.in_(ids))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # no unbilling between this read and the update
    return [dict(r._mapping) for r in conn.execute(stmt)]


def _update_calls(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _update_calls_pg(conn, rows)
        return
    stmt = (
        update(CALLS)
        .where(CALLS.c.call_id == bindparam("cid"))
        .values({f: bindparam(f) for f in PRICE_FIELDS})
    )
    conn.execute(stmt, rows)  # SQLite runs executemany in process: already fast


def _update_calls_pg(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """One UPDATE ... FROM unnest(arrays) per chunk: a round trip per row costs ~200 us."""
    sql = (
        "UPDATE llm_calls AS c SET cost_nanousd = v.cost, price_version = v.version, "
        "model = v.model, provider = v.provider, unpriced_reason = v.reason "
        "FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
        "AS v(call_id, cost, version, model, provider, reason) WHERE c.call_id = v.call_id"
    )
    columns = ("cid", *PRICE_FIELDS)
    conn.exec_driver_sql(sql, tuple([r[c] for r in rows] for c in columns))


def _audit_totals(report: RepriceReport) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = {m: t for m, t in sorted(report.by_model.items()) if t.changed}
    scope = {"since": report.since.astimezone(UTC).isoformat(), "model": report.model}

    def side(cost: str, unpriced: str) -> dict[str, Any]:
        per_model = {
            m: {"cost_nanousd": getattr(t, cost), "unpriced_calls": getattr(t, unpriced)}
            for m, t in changed.items()
        }
        return {**scope, "calls_changed": report.changed, "by_model": per_model}

    return side("before_nanousd", "unpriced_before"), side("after_nanousd", "unpriced_after")
