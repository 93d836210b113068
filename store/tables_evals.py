"""Schema of evaluation tags and of provider-reported spend (reconciliation).

Key columns are NOT NULL with "" for "none": NULLs never collide in a unique index, which
would break the ON CONFLICT upserts that make tags and links idempotent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.tables import utcnow


class EvaluationRow(SQLModel, table=True):
    """One evaluation tag; one row per (org, target, name, source), latest result wins.

    `target` is "span:<trace>:<span>", "trace:<trace>" or "response:<gen_ai.response.id>";
    a response target is joined to its span through `response_links` at query time.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("org_id", "target", "name", "source", name="uq_evaluations_tag"),
        Index("ix_evaluations_org_trace", "org_id", "trace_id"),
        Index("ix_evaluations_org_response", "org_id", "response_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    target: str
    trace_id: str = ""
    span_id: str = ""
    response_id: str = ""
    name: str
    source: str
    score: float | None = None
    label: str = ""
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False))
    error_type: str = ""
    time_ns: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    key_id: int = 0  # the ingest key that sent it (0: the CLI)
    updated_ns: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class ResponseLink(SQLModel, table=True):
    """gen_ai.response.id → the span that produced it (joins response-id evaluations)."""

    __tablename__ = "response_links"
    org_id: int = Field(primary_key=True)
    response_id: str = Field(primary_key=True)
    trace_id: str
    span_id: str


class ReconcileImport(SQLModel, table=True):
    """One provider export loaded by `otelspend reconcile import`."""

    __tablename__ = "reconcile_imports"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    provider: str
    kind: str  # "cost" | "usage" | "csv": re-importing replaces lines of the same kind
    format: str
    period_start_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    period_end_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    file_name: str = ""
    file_sha256: str = ""
    lines: int = 0
    replaced_lines: int = 0
    imported_at: datetime = Field(default_factory=utcnow)


class BilledLine(SQLModel, table=True):
    """One line of provider-reported spend or usage for a UTC time bucket."""

    __tablename__ = "reconcile_lines"
    __table_args__ = (Index("ix_reconcile_lines_org_bucket", "org_id", "bucket_start_ns"),)
    id: int | None = Field(default=None, primary_key=True)
    import_id: int
    org_id: int
    provider: str
    kind: str
    bucket_start_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    bucket_end_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    external_workspace: str = ""  # Anthropic workspace_id / OpenAI project_id ("" = none)
    external_api_key: str = ""
    model: str = ""
    description: str = ""
    token_class: str = ""  # "input" | "cache_read" | "cache_write" | "output" | ""
    cost_nanousd: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    input_tokens: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    cache_read_tokens: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    cache_write_tokens: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    output_tokens: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    requests: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class ProviderMapping(SQLModel, table=True):
    """Ties a provider workspace/project ("workspace") or API key to an otelspend workspace."""

    __tablename__ = "reconcile_mappings"
    __table_args__ = (
        UniqueConstraint("org_id", "provider", "kind", "external_id", name="uq_reconcile_map"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    provider: str
    kind: str  # "workspace" | "api_key"
    external_id: str  # "" = lines that name no workspace/project (Anthropic's default one)
    workspace_id: int
    created_at: datetime = Field(default_factory=utcnow)


class ReconcileSetting(SQLModel, table=True):
    """Per-org reconciliation switches (read by the budgets engine)."""

    __tablename__ = "reconcile_settings"
    org_id: int = Field(primary_key=True)
    count_uncaptured_in_budgets: bool = False
    updated_at: datetime = Field(default_factory=utcnow)
