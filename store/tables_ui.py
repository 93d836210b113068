"""Schema the UI's read queries need: an hourly rollup tier, trace/session sums, indexes.

`spend_hours` holds the same sums as `spend_minutes`, per UTC hour.  On SQLite it is kept
by triggers on `spend_minutes` (migration 0005_ui), in the writer's own transaction, so it
is never stale and the writer does not know it exists: a 30-day page sums ~10x fewer rows.
On PostgreSQL the table stays empty and the UI sums minutes directly (parallel hash
aggregation makes that cheap there, and triggers on hot shared rows would add lock-order
conflicts between replicas).  `store.ui_queries` picks the source per dialect.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from store.tables import LlmCallRow, SpendMinute

CALLS: Table = LlmCallRow.__table__  # type: ignore[attr-defined]
MINUTES: Table = SpendMinute.__table__  # type: ignore[attr-defined]
HOUR_DIMENSIONS = ("hour", "org_id", "workspace_id", "user_id", "key_id", "agent", "model")


class SpendHour(SQLModel, table=True):
    """Billed spend per UTC hour and dimension tuple (a coarser copy of spend_minutes)."""

    __tablename__ = "spend_hours"
    __table_args__ = (
        UniqueConstraint(*HOUR_DIMENSIONS, name="uq_spend_hours_dims"),
        Index("ix_spend_hours_org_hour", "org_id", "hour"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hour: int  # whole hours since the epoch (UTC)
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


# Indexes on other areas' tables, declared here so the models match migration 0005_ui.
# A member's traces and the user filter: (org, user, minute) instead of the org's whole range.
Index("ix_llm_calls_org_user_minute", CALLS.c.org_id, CALLS.c.user_id, CALLS.c.minute)
# Unpriced models are rare: a partial index holds only their calls, so listing them is cheap.
Index(
    "ix_llm_calls_unpriced",
    CALLS.c.model,
    CALLS.c.provider,
    sqlite_where=text("cost_nanousd IS NULL"),
    postgresql_where=text("cost_nanousd IS NULL"),
)


class TraceSpend(SQLModel, table=True):
    """Billed spend per trace (calls carrying a trace id), for the costliest-trace lists.

    Kept by SQLite triggers on llm_calls (migrations 0005_ui, 0009_trace_spend_fill_ins), like
    spend_hours; identity columns are those of the trace's first call, an empty agent or
    session id filled in from a later call or a later description of the call.  Without it,
    listing a month's costliest traces groups a million calls (seconds); with it, it walks
    an index in cost order.
    """

    __tablename__ = "trace_spend"
    __table_args__ = (
        Index("ix_trace_spend_org_cost", "org_id", "cost_nanousd", "trace_id"),
        Index("ix_trace_spend_org_minute", "org_id", "first_minute"),
    )
    org_id: int = Field(primary_key=True)
    trace_id: str = Field(primary_key=True)
    first_minute: int  # UTC minute its first call started
    start_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    end_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    unpriced_calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_read_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    workspace_id: int = 0
    user_id: int = 0
    key_id: int = 0
    agent: str = ""
    session_id: str = ""


class SessionSpend(SQLModel, table=True):
    """Billed spend per session, kept like trace_spend (for a budget's costliest sessions)."""

    __tablename__ = "session_spend"
    __table_args__ = (
        Index("ix_session_spend_org_cost", "org_id", "cost_nanousd", "session_id"),
        Index("ix_session_spend_org_minute", "org_id", "first_minute"),
    )
    org_id: int = Field(primary_key=True)
    session_id: str = Field(primary_key=True)
    first_minute: int
    start_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    end_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    unpriced_calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cost_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    input_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_read_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    cache_write_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    output_tokens: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    workspace_id: int = 0
    user_id: int = 0
    key_id: int = 0
    agent: str = ""
