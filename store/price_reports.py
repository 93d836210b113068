"""Read-only price reports: cost accuracy against what clients report, unpriced models' users."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, Table, and_, case, func, select

from store.queries import UnpricedModel, unpriced_models
from store.tables import LlmCallRow, User

CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]
USERS: Table = User.__table__  # type: ignore[attr-defined]
DEFAULT_THRESHOLD_PCT = Decimal(1)
_BASIS_POINTS_PER_PCT = 100
_MAX_USER_NAMES = 5


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
    engine: Engine, *, since_ns: int = 0, threshold_pct: Decimal = DEFAULT_THRESHOLD_PCT
) -> list[ModelAccuracy]:
    """Per model, compare client-reported and our costs, largest difference first."""
    c = CALLS.c
    ours = c.cost_nanousd
    client = c.client_cost_nanousd
    bp = int(threshold_pct * _BASIS_POINTS_PER_PCT)
    priced = ours.is_not(None)
    # Integer test of |ours - client| / client > threshold, per call: no float anywhere.
    off = and_(priced, func.abs(ours - client) * 100 * _BASIS_POINTS_PER_PCT > client * bp)
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
        .where(client.is_not(None), c.billed.is_(True), c.start_ns >= since_ns)
        .group_by(c.model, c.provider)
    )
    with engine.connect() as conn:
        rows = [
            ModelAccuracy(r[0], r[1], *(int(v or 0) for v in r[2:])) for r in conn.execute(stmt)
        ]
    return sorted(rows, key=lambda r: (-abs(r.delta_nanousd), -r.unpriced_calls, r.model))


@dataclass(frozen=True, slots=True)
class UnpricedModelUse:
    """A model seen without a price, and (some of) the people whose calls used it."""

    model: UnpricedModel
    user_names: tuple[str, ...]


def unpriced_model_uses(engine: Engine) -> list[UnpricedModelUse]:
    """Unpriced models (most calls first) with up to five user names each."""
    models = unpriced_models(engine)
    c, u = CALLS.c, USERS.c
    stmt = (
        select(c.model, c.provider, u.name)
        .join(USERS, u.id == c.user_id)
        .where(c.cost_nanousd.is_(None), c.billed.is_(True))
        .distinct()
        .order_by(u.name)
    )
    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    with engine.connect() as conn:
        for model, provider, name in conn.execute(stmt):
            names[(model, provider)].append(name)
    return [
        UnpricedModelUse(m, tuple(names[(m.model, m.provider)][:_MAX_USER_NAMES])) for m in models
    ]
