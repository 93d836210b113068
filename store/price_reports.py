"""Price reports: cost accuracy against what clients report, unpriced models and their users."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, case, func, select

from collector_processor.pricing.engine import NO_USAGE_REASON
from store.accuracy_rollup import fold_new_calls, hour_sums
from store.queries import UnpricedModel, unpriced_models
from store.subjects import ORGS
from store.tables import LlmCallRow, User

CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
DEFAULT_THRESHOLD_PCT = Decimal(1)
_BASIS_POINTS_PER_PCT = 100
_MAX_USER_NAMES = 5
_NS_PER_MINUTE = 60_000_000_000
_NS_PER_HOUR = 60 * _NS_PER_MINUTE


@dataclass(frozen=True, slots=True)
class ModelAccuracy:
    """Our cost against the client's own, over the billed calls of one model that carry both."""

    model: str
    provider: str
    calls: int
    client_nanousd: int
    ours_nanousd: int
    calls_off: int  # calls whose own difference exceeds the threshold
    unpriced_calls: int  # calls the client priced and we could not
    unpriced_client_nanousd: int

    @property
    def delta_nanousd(self) -> int:
        """Ours minus the client's (positive: we bill more)."""
        return self.ours_nanousd - self.client_nanousd

    @property
    def delta_pct(self) -> Decimal | None:
        """The difference as a percentage of the client's cost; None when that is 0."""
        if self.client_nanousd == 0:
            return None
        return Decimal(self.delta_nanousd) * 100 / Decimal(self.client_nanousd)

    def flagged(self, threshold_pct: Decimal = DEFAULT_THRESHOLD_PCT) -> bool:
        """Whether the model's total differs by more than the threshold (or we cannot price it)."""
        if self.unpriced_calls:
            return True
        if self.client_nanousd == 0:
            return self.ours_nanousd != 0
        return abs(self.delta_nanousd) * 100 > threshold_pct * self.client_nanousd


def cost_accuracy(
    engine: Engine,
    *,
    since_ns: int = 0,
    threshold_pct: Decimal = DEFAULT_THRESHOLD_PCT,
    org_id: int | None = None,
) -> list[ModelAccuracy]:
    """Per model, compare client-reported and our costs, largest difference first.

    On SQLite at the default threshold the whole hours come from accuracy_hours (folding in
    the calls inserted since the last report) and only the calls of the first, partial
    hour are read; otherwise every call since `since_ns` is.  `org_id` None: every org.
    """
    c = CALLS.c
    with engine.begin() as conn:
        if conn.dialect.name != "sqlite" or threshold_pct != DEFAULT_THRESHOLD_PCT:
            sums = _call_sums(conn, threshold_pct, org_id, c.start_ns >= since_ns)
        else:
            first_hour = -(-since_ns // _NS_PER_HOUR)
            fold_new_calls(conn)
            sums = hour_sums(conn, first_hour, org_id)
            since_minute, hour_minute = since_ns // _NS_PER_MINUTE, first_hour * 60
            ragged = (c.start_ns >= since_ns, c.minute >= since_minute, c.minute < hour_minute)
            for key, values in _call_sums(conn, threshold_pct, org_id, *ragged).items():
                sums[key] = [a + b for a, b in zip(sums.get(key, [0] * 6), values, strict=True)]
    rows = [ModelAccuracy(model, provider, *v) for (model, provider), v in sums.items()]
    return sorted(rows, key=lambda r: (-abs(r.delta_nanousd), -r.unpriced_calls, r.model))


def _call_sums(
    conn: Connection, threshold_pct: Decimal, org_id: int | None, *where: Any
) -> dict[tuple[str, str], list[int]]:
    """(model, provider) -> ModelAccuracy's sums over the billed calls carrying a client
    cost that match `where`, read call by call."""
    c = CALLS.c
    ours = c.cost_nanousd
    client = c.client_cost_nanousd
    bp = int(threshold_pct * _BASIS_POINTS_PER_PCT)
    priced = ours.is_not(None)
    # Integer test of |ours - client| / client > threshold, per call: no float anywhere.
    off = and_(priced, func.abs(ours - client) * 100 * _BASIS_POINTS_PER_PCT > client * bp)
    # Every org's calls through the (org_id, minute) index, not a scan of the table.
    orgs = c.org_id == org_id if org_id is not None else c.org_id.in_(select(ORGS.c.id))
    stmt = (
        select(
            c.model,
            c.provider,
            func.sum(case((priced, 1), else_=0)),
            func.sum(case((priced, client), else_=0)),
            func.sum(func.coalesce(ours, 0)),
            func.sum(case((off, 1), else_=0)),
            func.sum(case((priced, 0), else_=1)),
            func.sum(case((priced, 0), else_=client)),
        )
        .where(client.is_not(None), c.billed.is_(True), orgs, *where)
        .group_by(c.model, c.provider)
    )
    return {(r[0], r[1]): [int(v or 0) for v in r[2:]] for r in conn.execute(stmt)}


@dataclass(frozen=True, slots=True)
class UnpricedModelUse:
    """A model seen without a price, and (some of) the people whose calls used it."""

    model: UnpricedModel
    user_names: tuple[str, ...]


def unpriced_model_uses(engine: Engine, org_id: int | None = None) -> list[UnpricedModelUse]:
    """Unpriced models (most calls first) with up to five user names each, of one org's
    calls (`org_id` None: every org's)."""
    models = unpriced_models(engine, org_id)
    c, u = CALLS.c, USERS.c
    stmt = (
        select(c.model, c.provider, u.name)
        .join(USERS, u.id == c.user_id)
        .where(c.cost_nanousd.is_(None), c.billed.is_(True))
        .where(c.unpriced_reason != NO_USAGE_REASON)
        .distinct()
        .order_by(u.name)
    )
    if org_id is not None:
        stmt = stmt.where(c.org_id == org_id)
    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    with engine.connect() as conn:
        for model, provider, name in conn.execute(stmt):
            names[(model, provider)].append(name)
    return [
        UnpricedModelUse(m, tuple(names[(m.model, m.provider)][:_MAX_USER_NAMES])) for m in models
    ]
