"""First sightings of unpriced models (one row per org, provider and model)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy import Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

from store.tables import utcnow
from store.tables_prices import UnpricedModelSighting

SIGHTINGS: Table = UnpricedModelSighting.__table__  # type: ignore[attr-defined]


class Sighting(NamedTuple):
    """A call of a model without a price."""

    org_id: int
    provider: str
    model: str
    first_seen_ns: int
    call_id: str


def record_sightings(engine: Engine, sightings: Sequence[Sighting]) -> list[Sighting]:
    """Store sightings; return those that are the first for their (org, provider, model)."""
    if not sightings:
        return []
    rows = [{**s._asdict(), "created_at": utcnow()} for s in sightings]
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    c = SIGHTINGS.c
    stmt = (
        dialect.insert(SIGHTINGS)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(c.org_id, c.provider, c.model)
    )
    with engine.begin() as conn:
        inserted = {tuple(r) for r in conn.execute(stmt)}
    return [s for s in sightings if (s.org_id, s.provider, s.model) in inserted]
