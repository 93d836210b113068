"""Price overrides: negotiated discounts and custom rates by scope and period (cold path)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, delete, insert, select

from collector_processor.pricing.book import PriceOverride
from collector_processor.pricing.catalog import ModelRates
from store.audit import entity_path, record
from store.tables import Org, Workspace, utcnow
from store.tables_prices import PriceOverrideRow

OVERRIDES: Table = PriceOverrideRow.__table__  # type: ignore[attr-defined]
ORGS: Table = Org.__table__  # type: ignore[attr-defined]
WORKSPACES: Table = Workspace.__table__  # type: ignore[attr-defined]
# Override columns holding USD-per-MTok rates, in ModelRates field order.
RATE_COLUMNS = (
    "input_usd_per_mtok",
    "cache_read_usd_per_mtok",
    "cache_write_usd_per_mtok",
    "cache_write_1h_usd_per_mtok",
    "output_usd_per_mtok",
    "reasoning_usd_per_mtok",
)


class ScopeError(ValueError):
    """An org or workspace that does not exist, or a workspace name that is ambiguous."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an override applies: ids (None = wider) and names for people."""

    org_id: int | None = None
    org: str = ""
    workspace_id: int | None = None
    workspace: str = ""

    def describe(self) -> str:
        """Name the scope: "workspace acme/platform", "org acme" or "everyone"."""
        if self.workspace_id is not None:
            return f"workspace {self.org}/{self.workspace}"
        return f"org {self.org}" if self.org_id is not None else "everyone"


@dataclass(frozen=True, slots=True)
class OverrideSpec:
    """A new override as asked for; rates in USD per million tokens."""

    model: str
    provider: str
    scope: Scope
    valid_from: datetime
    valid_until: datetime | None
    discount_pct: Decimal | None = None
    rates: dict[str, Decimal] | None = None  # keys from RATE_COLUMNS
    note: str = ""

    def as_override(self, override_id: int = 0) -> PriceOverride:
        """The in-memory form (validates the spec: raises ValueError)."""
        return PriceOverride(
            override_id=override_id,
            model=self.model,
            provider_id=self.provider,
            org_id=self.scope.org_id,
            workspace_id=self.scope.workspace_id,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            discount_pct=self.discount_pct,
            rates=None
            if self.rates is None
            else override_rates(self.provider, self.model, self.rates),
        )


@dataclass(frozen=True, slots=True)
class OverrideInfo:
    """A stored override as listed to people."""

    id: int
    scope: str
    org: str
    workspace: str
    provider: str
    model: str
    discount_pct: str | None
    rates: dict[str, str | None]
    valid_from: datetime
    valid_until: datetime | None
    note: str
    created_by: str
    created_at: datetime


def override_rates(provider: str, model: str, rates: dict[str, Decimal]) -> ModelRates:
    """A complete flat price from the rates given; classes not given bill as the engine says."""
    if "input_usd_per_mtok" not in rates or "output_usd_per_mtok" not in rates:
        raise ValueError("an override with rates needs at least --input and --output")
    return ModelRates(
        provider_id=provider,
        model_id=model,
        input_usd_per_mtok=rates["input_usd_per_mtok"],
        cache_read_usd_per_mtok=rates.get("cache_read_usd_per_mtok"),
        cache_write_usd_per_mtok=rates.get("cache_write_usd_per_mtok"),
        cache_write_1h_usd_per_mtok=rates.get("cache_write_1h_usd_per_mtok"),
        output_usd_per_mtok=rates["output_usd_per_mtok"],
        output_reasoning_usd_per_mtok=rates.get("reasoning_usd_per_mtok"),
    )


def resolve_scope(engine: Engine, org: str | None, workspace: str | None) -> Scope:
    """Names -> ids; a workspace name alone must be unique across orgs."""
    if org is None and workspace is None:
        return Scope()
    o, w = ORGS.c, WORKSPACES.c
    with engine.connect() as conn:
        if workspace is None:
            org_id = conn.execute(select(o.id).where(o.name == org)).scalar()
            if org_id is None:
                raise ScopeError(f"no org named {org!r}")
            return Scope(org_id, str(org))
        stmt = (
            select(o.id, o.name, w.id).join(WORKSPACES, w.org_id == o.id).where(w.name == workspace)
        )
        if org is not None:
            stmt = stmt.where(o.name == org)
        found = conn.execute(stmt).all()
    if not found:
        where = f" in org {org!r}" if org else ""
        raise ScopeError(f"no workspace named {workspace!r}{where}")
    if len(found) > 1:
        orgs = ", ".join(sorted(r[1] for r in found))
        raise ScopeError(f"workspace {workspace!r} exists in several orgs ({orgs}): add --org")
    org_id, org_name, ws_id = found[0]
    return Scope(org_id, org_name, ws_id, str(workspace))


def add_override(engine: Engine, spec: OverrideSpec, actor: str) -> int:
    """Store an override with its audit row; returns its id.  Raises ValueError if invalid."""
    spec.as_override()  # validate before writing
    rates = {c: None if spec.rates is None or c not in spec.rates else str(spec.rates[c])
             for c in RATE_COLUMNS}  # fmt: skip
    row = {
        "org_id": spec.scope.org_id,
        "workspace_id": spec.scope.workspace_id,
        "provider": spec.provider,
        "model": spec.model,
        "discount_pct": None if spec.discount_pct is None else str(spec.discount_pct),
        **rates,
        "valid_from": spec.valid_from,
        "valid_until": spec.valid_until,
        "note": spec.note,
        "created_by": actor,
        "created_at": utcnow(),
    }
    with engine.begin() as conn:
        new_id = int(
            conn.execute(insert(OVERRIDES).values(**row).returning(OVERRIDES.c.id)).scalar_one()
        )
        after = {**row, "id": new_id, "scope": spec.scope.describe()}
        record(conn, actor, "prices.override", _entity(spec.scope.org, new_id), None, after)
    return new_id


def remove_override(engine: Engine, override_id: int, actor: str) -> OverrideInfo | None:
    """Delete an override (audited with what it was); None when there is no such override."""
    found = [i for i in list_overrides(engine) if i.id == override_id]
    if not found:
        return None
    info = found[0]
    with engine.begin() as conn:
        conn.execute(delete(OVERRIDES).where(OVERRIDES.c.id == override_id))
        before = {f.name: getattr(info, f.name) for f in fields(info)}
        record(conn, actor, "prices.override.remove", _entity(info.org, override_id), before, None)
    return info


def _entity(org: str, override_id: int) -> str:
    # Audit entities are paths starting with the org, so `audit list --org` finds them.
    return entity_path(org or "*", "price-override", override_id)


def list_overrides(engine: Engine) -> list[OverrideInfo]:
    """Every override, oldest first, with org and workspace names."""
    p, o, w = OVERRIDES.c, ORGS.c, WORKSPACES.c
    stmt = (
        select(OVERRIDES, o.name.label("org_name"), w.name.label("ws_name"))
        .outerjoin(ORGS, o.id == p.org_id)
        .outerjoin(WORKSPACES, w.id == p.workspace_id)
        .order_by(p.id)
    )
    with engine.connect() as conn:
        return [_info(r._mapping) for r in conn.execute(stmt)]


def _info(r: Any) -> OverrideInfo:
    scope = "workspace" if r["workspace_id"] else ("org" if r["org_id"] else "global")
    return OverrideInfo(
        id=r["id"],
        scope=scope,
        org=r["org_name"] or "",
        workspace=r["ws_name"] or "",
        provider=r["provider"],
        model=r["model"],
        discount_pct=r["discount_pct"],
        rates={c: r[c] for c in RATE_COLUMNS},
        valid_from=r["valid_from"],
        valid_until=r["valid_until"],
        note=r["note"],
        created_by=r["created_by"],
        created_at=r["created_at"],
    )


def load_overrides(conn: Connection) -> list[PriceOverride]:
    """Every stored override in its in-memory form."""
    out = []
    for r in conn.execute(select(OVERRIDES)):
        m = r._mapping
        rates = {c: Decimal(m[c]) for c in RATE_COLUMNS if m[c] is not None}
        discount = None if m["discount_pct"] is None else Decimal(m["discount_pct"])
        scope = Scope(m["org_id"], "", m["workspace_id"], "")
        spec = OverrideSpec(
            m["model"], m["provider"], scope, m["valid_from"], m["valid_until"], discount,
            rates or None,
        )  # fmt: skip
        out.append(spec.as_override(m["id"]))
    return out
