"""The hard budgets of each org, kept between reservations while they are unchanged.

Definitions only (scope, window, limit, filters, approved raises, the org's time zone),
never spend: spend and holds are read in every reservation transaction.  Each batch
revalidates the copy with one small query (how many budgets and raises, the newest change,
the zone), so a budget created, edited or deleted — or a raise approved — a moment ago is
obeyed by the next batch, in every replica.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from store.budgets import Budget, BudgetOverride, load_budgets, load_overrides
from store.subjects import OrgInfo, org_by_id

_OF_ORG = "SELECT id FROM budgets WHERE org_id = :org"
_VERSION = text(
    "SELECT (SELECT count(*) FROM budgets WHERE org_id = :org),"
    " (SELECT max(updated_at) FROM budgets WHERE org_id = :org),"
    " (SELECT max(id) FROM budgets WHERE org_id = :org),"
    f" (SELECT count(*) FROM budget_overrides WHERE budget_id IN ({_OF_ORG})),"
    f" (SELECT max(id) FROM budget_overrides WHERE budget_id IN ({_OF_ORG})),"
    " (SELECT timezone FROM orgs WHERE id = :org)"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OrgBudgets:
    """An org, its hard budgets and their raises, as of `version`."""

    org: OrgInfo
    budgets: list[Budget]
    version: tuple[Any, ...]
    overrides: list[BudgetOverride] = field(default_factory=list)

    def raises(self, now: datetime) -> dict[tuple[int, int], int]:
        """Sum of the raises in force at `now` per (budget, subject)."""
        out: dict[tuple[int, int], int] = defaultdict(int)
        for o in self.overrides:
            until = o.until if o.until.tzinfo else o.until.replace(tzinfo=UTC)
            if until > now:
                out[(o.budget_id, o.subject_id)] += o.amount_nanousd
        return out


class HardBudgets:
    """Per-org copies of the hard budget definitions, revalidated on every use."""

    def __init__(self) -> None:
        self._orgs: dict[int, OrgBudgets] = {}

    def of(self, conn: Connection, org_id: int) -> OrgBudgets:
        """The org's hard budgets, reloaded only when the version query says they changed."""
        version = tuple(conn.execute(_VERSION, {"org": org_id}).one())
        cached = self._orgs.get(org_id)
        if cached is not None and cached.version == version:
            return cached
        hard = [b for b in load_budgets(conn, org_id) if b.mode == "hard"]
        raises = load_overrides(conn, [b.id for b in hard], _EPOCH)  # expiry is checked per use
        fresh = OrgBudgets(org_by_id(conn, org_id), hard, version, raises)
        self._orgs[org_id] = fresh
        return fresh
