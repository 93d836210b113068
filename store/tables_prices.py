"""Schema of price data: version snapshots, scoped overrides, first sightings of unpriced models.

`price_versions` (store.tables) names each version; `price_snapshots` holds its whole catalog
as the text it was imported from, so a version can be rebuilt exactly at any later time.
Rates are decimal strings in USD per million tokens: exact on SQLite too, whose NUMERIC
would round through float.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.tables import utcnow


class PriceSnapshot(SQLModel, table=True):
    """The catalog of one price version and the instant from which it is in force."""

    __tablename__ = "price_snapshots"
    version_id: int = Field(primary_key=True, foreign_key="price_versions.id")
    format: str  # "genai-prices" | "litellm"
    effective_from: datetime
    sha256: str = Field(index=True)
    models: int = 0  # token-priced models the catalog lists
    created_by: str = ""
    body: str = Field(sa_column=Column(Text, nullable=False))


class PriceOverrideRow(SQLModel, table=True):
    """Negotiated or custom rates for one model, scope (workspace, org, everyone) and period."""

    __tablename__ = "price_overrides"
    __table_args__ = (Index("ix_price_overrides_model", "model"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="orgs.id")
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id")
    provider: str = ""  # "" = any provider
    model: str  # normalized model ref
    discount_pct: str | None = None  # percent off the catalog, e.g. "15"
    input_usd_per_mtok: str | None = None
    cache_read_usd_per_mtok: str | None = None
    cache_write_usd_per_mtok: str | None = None
    cache_write_1h_usd_per_mtok: str | None = None
    output_usd_per_mtok: str | None = None
    reasoning_usd_per_mtok: str | None = None
    valid_from: datetime
    valid_until: datetime | None = None
    note: str = ""
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class UnpricedModelSighting(SQLModel, table=True):
    """The first call of a model without a price, per org: the unpriced alert fires once."""

    __tablename__ = "unpriced_model_sightings"
    __table_args__ = (
        UniqueConstraint("org_id", "provider", "model", name="uq_unpriced_model_sightings"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    provider: str = ""
    model: str
    first_seen_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    call_id: str = ""
    created_at: datetime = Field(default_factory=utcnow)
