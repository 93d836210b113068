"""Read queries over the rollups and calls (what the CLI and the UI render)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Table, func, select

from collector_processor.pricing.engine import NO_USAGE_REASON
from store.tables import ApiKey, LlmCallRow, Org, SpendMinute, User, Workspace

SPEND_GROUPINGS = ("user", "key", "workspace", "agent", "model", "org")
_NS_PER_MINUTE = 60_000_000_000

ROLLUP: Table = SpendMinute.__table__  # type: ignore[attr-defined]
CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]
_NAMED: dict[str, tuple[Table, str, str]] = {
    # grouping -> (table, column shown, rollup column joined on)
    "user": (User.__table__, "name", "user_id"),  # type: ignore[attr-defined]
    "key": (ApiKey.__table__, "prefix", "key_id"),  # type: ignore[attr-defined]
    "workspace": (Workspace.__table__, "name", "workspace_id"),  # type: ignore[attr-defined]
    "org": (Org.__table__, "name", "org_id"),  # type: ignore[attr-defined]
}
ORGS: Table = Org.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Billed spend of one group; money in integer nano-USD."""

    group: str
    calls: int
    unpriced_calls: int
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_nanousd: int


_MEASURES = (
    "calls",
    "unpriced_calls",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_nanousd",
)


def spend_by(
    engine: Engine,
    by: str,
    *,
    since_ns: int = 0,
    until_ns: int | None = None,
    org: str | None = None,
) -> list[SpendRow]:
    """Sum billed spend per group from the per-minute rollups, costliest first."""
    if by not in SPEND_GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(SPEND_GROUPINGS)}")
    r = ROLLUP.c
    from_: Any = ROLLUP
    if by in _NAMED:
        table, shown, fk = _NAMED[by]
        col = table.c[shown]
        from_ = from_.join(table, table.c.id == r[fk])
    else:
        col = r[by]
    stmt = select(col, *(func.sum(r[m]) for m in _MEASURES)).select_from(from_)
    if org is not None:
        org_ids = select(ORGS.c.id).where(ORGS.c.name == org).scalar_subquery()
        stmt = stmt.where(r.org_id == org_ids)
    stmt = stmt.where(r.minute >= since_ns // _NS_PER_MINUTE)
    if until_ns is not None:
        stmt = stmt.where(r.minute < until_ns // _NS_PER_MINUTE)
    stmt = (
        stmt.group_by(col)
        .having(func.sum(r.calls) != 0)
        .order_by(func.sum(r.cost_nanousd).desc(), col)
    )
    with engine.connect() as conn:
        return [
            SpendRow(str(row[0]), *(int(v or 0) for v in row[1:])) for row in conn.execute(stmt)
        ]


@dataclass(frozen=True, slots=True)
class UnpricedModel:
    """A model seen without a price."""

    model: str
    provider: str
    calls: int
    input_tokens: int
    output_tokens: int
    first_seen_ns: int
    last_seen_ns: int
    users: int


def unpriced_models(engine: Engine, org_id: int | None = None) -> list[UnpricedModel]:
    """List models whose billed calls carry no price, most calls first.

    Calls unpriced only because they reported no usage are left out: their model may well
    have a price, and adding one would not price them.  `org_id` None: every org.
    """
    c = CALLS.c
    stmt = (
        select(
            c.model,
            c.provider,
            func.count(),
            func.sum(c.input_tokens + c.cache_read_tokens + c.cache_write_tokens),
            func.sum(c.output_tokens),
            func.min(c.start_ns),
            func.max(c.start_ns),
            func.count(func.distinct(c.user_id)),
        )
        .where(c.cost_nanousd.is_(None), c.billed.is_(True))
        .where(c.unpriced_reason != NO_USAGE_REASON)
        .group_by(c.model, c.provider)
        .order_by(func.count().desc())
    )
    if org_id is not None:
        stmt = stmt.where(c.org_id == org_id)
    with engine.connect() as conn:
        return [
            UnpricedModel(row[0], row[1], *(int(v or 0) for v in row[2:]))
            for row in conn.execute(stmt)
        ]
