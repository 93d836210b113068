"""Keep and read accuracy_hours (store.tables_accuracy) on SQLite, without the writer.

Calls are folded in by rowid when a report is read: the rowids past `last_rowid` are the
calls inserted since (the single writer appends them; calls are never deleted — a DELETE
trigger subtracts one that is, and a rowid range that shrank is folded again).  A call
already folded and then updated — client cost learnt from a second description, unbilled,
re-priced — is followed by triggers (migration 0008_ui_perf), so the sums stay exact.
Folding holds the write lock while it reads the calls inserted since the last report.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, func, select

from store.tables_accuracy import AccuracyHour

HOURS: Table = AccuracyHour.__table__  # type: ignore[attr-defined]
MEASURES = (
    "priced_calls",
    "client_nanousd",
    "ours_nanousd",
    "calls_off",
    "unpriced_calls",
    "unpriced_client_nanousd",
)
KEY = ("org_id", "hour", "model", "provider")
DEFAULT_THRESHOLD_BP = 100  # calls_off counts calls more than 1 % (100 basis points) apart


def call_terms(row: str = "") -> tuple[str, ...]:
    """SQL of one call's contribution to each measure; `row` is '', 'NEW.' or 'OLD.'."""
    cost, client = f"{row}cost_nanousd", f"{row}client_cost_nanousd"
    return (
        f"({cost} IS NOT NULL)",
        f"(CASE WHEN {cost} IS NOT NULL THEN {client} ELSE 0 END)",
        f"COALESCE({cost}, 0)",
        f"({cost} IS NOT NULL AND abs({cost} - {client}) * 10000 > {client} * "
        f"{DEFAULT_THRESHOLD_BP})",
        f"({cost} IS NULL)",
        f"(CASE WHEN {cost} IS NULL THEN {client} ELSE 0 END)",
    )


def counted(row: str = "") -> str:
    """SQL condition: the call counts (billed, with a client-reported cost)."""
    return f"{row}billed AND {row}client_cost_nanousd IS NOT NULL"


def _upsert_tail() -> str:
    sets = ", ".join(f"{m} = {m} + excluded.{m}" for m in MEASURES)
    return f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {sets}"


def trigger_upsert(row: str, sign: str) -> str:
    """Add (sign '') or subtract (sign '-') one call (row 'NEW.'/'OLD.') to/from its hour."""
    key = f"{row}org_id, {row}minute / 60, {row}model, {row}provider"
    terms = ", ".join(f"{sign}{t}" for t in call_terms(row))
    return (
        f"INSERT INTO accuracy_hours ({', '.join((*KEY, *MEASURES))}) "
        f"SELECT {key}, {terms} WHERE {counted(row)} {_upsert_tail()};"
    )


def fold_new_calls(conn: Connection) -> int:
    """Add the calls inserted since the last fold to accuracy_hours; return how many rowids.

    The first statement writes, so SQLite takes the write lock before anything is read and
    no writer can slip a call in between (a deferred read would also fail to upgrade).
    """
    conn.exec_driver_sql("UPDATE accuracy_folds SET last_rowid = last_rowid WHERE id = 1")
    last = conn.exec_driver_sql("SELECT last_rowid FROM accuracy_folds WHERE id = 1").scalar()
    top = conn.exec_driver_sql("SELECT max(rowid) FROM llm_calls").scalar() or 0
    if last is None:
        return 0  # PostgreSQL, or a store before migration 0008_ui_perf
    if top < last:  # rowids renumbered (a VACUUM after deleting calls): fold all again
        conn.exec_driver_sql("DELETE FROM accuracy_hours")
        last = 0
    if top == last:
        return 0
    sums = ", ".join(f"SUM({t})" for t in call_terms())
    conn.exec_driver_sql(
        f"INSERT INTO accuracy_hours ({', '.join((*KEY, *MEASURES))}) "
        f"SELECT org_id, minute / 60, model, provider, {sums} FROM llm_calls "
        f"WHERE rowid > ? AND rowid <= ? AND {counted()} "
        f"GROUP BY org_id, minute / 60, model, provider {_upsert_tail()}",
        (last, top),
    )
    conn.exec_driver_sql("UPDATE accuracy_folds SET last_rowid = ? WHERE id = 1", (top,))
    return int(top - last)


def hour_sums(
    conn: Connection, first_hour: int, org_id: int | None
) -> dict[tuple[str, str], list[int]]:
    """(model, provider) -> MEASURES summed over the hours from `first_hour` on."""
    h = HOURS.c
    stmt = (
        select(h.model, h.provider, *(func.sum(h[m]) for m in MEASURES))
        .where(h.hour >= first_hour)
        .group_by(h.model, h.provider)
    )
    if org_id is not None:
        stmt = stmt.where(h.org_id == org_id)
    return {(r[0], r[1]): [int(v or 0) for v in r[2:]] for r in conn.execute(stmt)}
