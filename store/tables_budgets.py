"""Schema of budgets, their expiring overrides, increase requests, alerts and members.

Money is integer nano-USD.  Dimension-like columns are NOT NULL with 0 / "" meaning "any"
or "none", for the same reason as the rollup: NULLs never collide in a unique index.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.tables import utcnow


class BudgetRow(SQLModel, table=True):
    """A spend limit for one scope and calendar window (or a default for every subject)."""

    __tablename__ = "budgets"
    __table_args__ = (
        UniqueConstraint(
            "org_id", "scope", "scope_id", "agent", "model", "window", name="uq_budgets_target"
        ),
        Index("ix_budgets_org", "org_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    scope: str  # org | workspace | user | key
    scope_id: int = 0  # the org / workspace / user / key id; 0 = default for every subject
    agent: str = ""  # "" = any agent
    model: str = ""  # "" = any model
    window: str  # hour | day | week | month
    limit_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))
    mode: str = "soft"  # hard: the gateway blocks; soft: alerts only
    thresholds: str = "50,80,100"  # percent, ascending
    until: datetime | None = None  # an exception ends here; the default applies again
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BudgetOverrideRow(SQLModel, table=True):
    """An additive, expiring raise of one budget for one subject (an approved request)."""

    __tablename__ = "budget_overrides"
    __table_args__ = (Index("ix_budget_overrides_budget", "budget_id"),)
    id: int | None = Field(default=None, primary_key=True)
    budget_id: int
    subject_id: int  # the user / key / workspace / org id the raise applies to
    # Unique: an approval can never be applied twice, whatever the interleaving.
    request_id: int = Field(unique=True)
    amount_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))
    until: datetime
    created_at: datetime = Field(default_factory=utcnow)


class BudgetRequestRow(SQLModel, table=True):
    """A member's request to raise a budget, and its decision."""

    __tablename__ = "budget_requests"
    __table_args__ = (Index("ix_budget_requests_org_status", "org_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    budget_id: int
    subject_id: int
    amount_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))
    until: datetime
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    traces: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    status: str = "pending"  # pending | approved | denied
    requested_by: str
    requested_at: datetime = Field(default_factory=utcnow)
    decided_by: str = ""
    decided_at: datetime | None = None
    decision_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class AlertRow(SQLModel, table=True):
    """One raised alert; `dedupe_key` makes each (budget, window, threshold) fire once."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_org_created", "org_id", "created_at"),
        Index("ix_alerts_dispatched", "dispatched_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    kind: str  # threshold | projected | runaway | unpriced_model
    dedupe_key: str = Field(unique=True)
    budget_id: int = 0
    subject: str = ""  # e.g. "user:alice", "session:abc"
    user_id: int = 0  # whose spend it is about (members see their own alerts)
    window: str = ""
    window_start: datetime | None = None
    window_end: datetime | None = None
    threshold_pct: int = 0
    spent_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    limit_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    projected_nanousd: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    exhaustion_at: datetime | None = None
    session_id: str = ""
    trace_id: str = ""
    model: str = ""
    message: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    link: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    # Set by the one server process that claims the alert for webhook delivery.
    dispatched_at: datetime | None = None


class AlertDeliveryRow(SQLModel, table=True):
    """One alert sent to one webhook: attempts, last error, outcome."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_alert", "alert_id"),)
    id: int | None = Field(default=None, primary_key=True)
    alert_id: int
    webhook: str  # redacted (host + digest): webhook URLs often embed a secret
    status: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None


class MemberRow(SQLModel, table=True):
    """A named actor of the CLI and its role in one org."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_members_org_name"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int
    name: str
    role: str  # admin | member
    user_name: str = ""  # the users.name whose spend is "own" (defaults to `name`)
    created_by: str = ""
    created_at: datetime = Field(default_factory=utcnow)
