"""Read queries over the rollups and calls (what the CLI and the UI render)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from store.tables import ApiKey, LlmCallRow, Org, SpendMinute, User, Workspace

SPEND_GROUPINGS = ("user", "key", "workspace", "agent", "model", "org")
_NS_PER_MINUTE = 60_000_000_000


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


def _group_column(by: str):  # type: ignore[no-untyped-def]
    t = SpendMinute
    return {
        "user": (User.name, (User, User.id == t.user_id)),
        "key": (ApiKey.prefix, (ApiKey, ApiKey.id == t.key_id)),
        "workspace": (Workspace.name, (Workspace, Workspace.id == t.workspace_id)),
        "org": (Org.name, (Org, Org.id == t.org_id)),
        "agent": (t.agent, None),
        "model": (t.model, None),
    }[by]


def spend_by(
    engine: Engine, by: str, *, since_ns: int = 0, until_ns: int | None = None,
    org: str | None = None,
) -> list[SpendRow]:
    """Sum billed spend per group from the per-minute rollups, costliest first."""
    if by not in SPEND_GROUPINGS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(SPEND_GROUPINGS)}")
    t = SpendMinute
    col, join = _group_column(by)
    measures = [
        func.sum(t.calls), func.sum(t.unpriced_calls), func.sum(t.input_tokens),
        func.sum(t.cache_read_tokens), func.sum(t.cache_write_tokens), func.sum(t.output_tokens),
        func.sum(t.reasoning_tokens), func.sum(t.cost_nanousd),
    ]
    stmt = select(col, *measures).select_from(t)
    if join is not None:
        stmt = stmt.join(*join)
    if org is not None:
        stmt = stmt.join(Org, Org.id == t.org_id).where(Org.name == org) if by != "org" else stmt.where(Org.name == org)
    stmt = stmt.where(t.minute >= since_ns // _NS_PER_MINUTE)
    if until_ns is not None:
        stmt = stmt.where(t.minute < until_ns // _NS_PER_MINUTE)
    stmt = stmt.group_by(col).having(func.sum(t.calls) != 0).order_by(func.sum(t.cost_nanousd).desc(), col)
    with engine.connect() as conn:
        return [SpendRow(str(r[0]), *(int(v or 0) for v in r[1:])) for r in conn.execute(stmt)]


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


def unpriced_models(engine: Engine) -> list[UnpricedModel]:
    """List models whose billed calls carry no price."""
    c = LlmCallRow
    stmt = (
        select(
            c.model, c.provider, func.count(), func.sum(c.input_tokens + c.cache_read_tokens + c.cache_write_tokens),
            func.sum(c.output_tokens), func.min(c.start_ns), func.max(c.start_ns),
            func.count(func.distinct(c.user_id)),
        )
        .where(c.cost_nanousd.is_(None), c.billed.is_(True))  # type: ignore[union-attr]
        .group_by(c.model, c.provider)
        .order_by(func.count().desc())
    )
    with engine.connect() as conn:
        return [UnpricedModel(r[0], r[1], *(int(v or 0) for v in r[2:])) for r in conn.execute(stmt)]
