"""SQLModel schema: identity, keys, spans, LLM calls, per-minute rollups, prices, audit.

Money columns are integer nano-USD (1e-9 USD).  Dimension columns of the rollup are NOT NULL
(0 / "" for "none") because NULLs never collide in a unique index, which would break upserts.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Org(SQLModel, table=True):
    __tablename__ = "orgs"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    timezone: str = "UTC"
    created_at: datetime = Field(default_factory=utcnow)


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    name: str
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """A person (or agent identity) inside an org; `name` is the external id or email."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("org_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    name: str
    created_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """An ingest credential; only its SHA-256 is stored, `prefix` identifies it to people."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="orgs.id")
    workspace_id: int = Field(foreign_key="workspaces.id")
    user_id: int | None = Field(default=None, foreign_key="users.id")
    prefix: str = Field(unique=True, index=True)
    key_hash: str = Field(unique=True, index=True)
    trusted: bool = False
    label: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class SpanRow(SQLModel, table=True):
    """Every span received, kept for trace inspection; model calls live in llm_calls."""

    __tablename__ = "spans"
    # Read only by trace: the primary key (trace_id, span_id) serves that, and no other index
    # is kept (each would cost every ingested span a B-tree insert; 0007_write_path).
    trace_id: str = Field(primary_key=True)
    span_id: str = Field(primary_key=True)
    parent_span_id: str = ""
    name: str = ""
    kind: int = 0
    start_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    end_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    status_code: int = 0
    status_message: str = ""
    org_id: int
    workspace_id: int
    key_id: int
    service_name: str = ""
    scope_name: str = ""
    attributes: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    resource: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    events: str = Field(default="[]", sa_column=Column(Text, nullable=False))


class LlmCallRow(SQLModel, table=True):
    """One priced, attributed model call (or a session aggregate, see semconv.records)."""

    __tablename__ = "llm_calls"
    __table_args__ = (
        Index("ix_llm_calls_org_minute", "org_id", "minute"),
        # (session, minute): superseding aggregates and the runaway detector's per-minute
        # series of a few sessions both stay index range scans.
        Index("ix_llm_calls_org_session", "org_id", "session_id", "minute"),
        Index("ix_llm_calls_trace", "trace_id"),
        # Every per-call insert asks "does this session have billed aggregates to unbill?":
        # a partial index holds only the (rare) aggregate rows, so the probe stays cheap.
        Index(
            "ix_llm_calls_aggregates",
            "org_id",
            "session_id",
            sqlite_where=text("granularity = 'aggregate'"),
            postgresql_where=text("granularity = 'aggregate'"),
        ),
        # Cross-source matching (store.call_matching): stored calls with a new call's end-time
        # bucket and fingerprint.  Partial: only matchable calls have a key.
        Index(
            "ix_llm_calls_match",
            "match_key",
            sqlite_where=text("match_key IS NOT NULL"),
            postgresql_where=text("match_key IS NOT NULL"),
        ),
    )
    call_id: str = Field(primary_key=True)
    org_id: int
    workspace_id: int
    user_id: int
    key_id: int
    agent: str = ""
    provider: str = ""
    request_model: str = ""
    response_model: str = ""
    model: str = ""  # the model id pricing resolved to (or the raw model when unpriced)
    operation: str = ""
    granularity: str = "call"
    source: str = ""
    dialect: str = ""
    # False: an aggregate superseded by per-call records of its session, or a duplicate.
    billed: bool = True
    # The call_id of the billed call this row describes again from another channel ("" if
    # none): the gateway's record and the client's own span or log event of one call.
    duplicate_of: str = ""
    # End-time bucket and fingerprint hash (store.call_matching); None for rows never matched.
    match_key: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    # On a billed call that others duplicate: their channels, "dialect/source,..." ("" if none).
    match_channels: str = ""
    start_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    end_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    minute: int = 0  # start time in whole minutes since the epoch (UTC)
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_read_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_1h_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reasoning_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_nanousd: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    client_cost_nanousd: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True)
    )
    price_version: str = ""
    unpriced_reason: str = ""
    trace_id: str = ""
    span_id: str = ""
    session_id: str = ""
    service_name: str = ""
    created_ns: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


ROLLUP_DIMENSIONS = ("minute", "org_id", "workspace_id", "user_id", "key_id", "agent", "model")
ROLLUP_MEASURES = (
    "calls",
    "unpriced_calls",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cost_nanousd",
)


class SpendMinute(SQLModel, table=True):
    """Billed spend per minute and dimension tuple; any window is a cheap sum of these."""

    __tablename__ = "spend_minutes"
    __table_args__ = (
        UniqueConstraint(*ROLLUP_DIMENSIONS, name="uq_spend_minutes_dims"),
        Index("ix_spend_minutes_org_minute", "org_id", "minute"),
    )
    id: int | None = Field(default=None, primary_key=True)
    minute: int
    org_id: int
    workspace_id: int
    user_id: int
    key_id: int
    agent: str = ""
    model: str = ""
    calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    unpriced_calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_read_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    reasoning_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class PriceVersion(SQLModel, table=True):
    """A price catalog snapshot; every priced call names the version it used."""

    __tablename__ = "price_versions"
    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(unique=True)
    source: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who changed what, when, with before/after (JSON)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    actor: str = ""
    action: str
    entity: str = ""
    before: str = Field(default="", sa_column=Column(Text, nullable=False))
    after: str = Field(default="", sa_column=Column(Text, nullable=False))
