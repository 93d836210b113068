"""Schema of the gateway: budget reservations (shared by every replica) and the response cache.

Money is integer nano-USD; times are Unix nanoseconds (BigInteger: they overflow INTEGER).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, LargeBinary, Text
from sqlmodel import Field, SQLModel


class GatewayBudgetLock(SQLModel, table=True):
    """One row per (budget, subject): what a reservation locks, so replicas take turns."""

    __tablename__ = "gateway_budget_locks"
    budget_id: int = Field(primary_key=True)
    subject_id: int = Field(primary_key=True)


class GatewayReservation(SQLModel, table=True):
    """Money held for an in-flight call against one budget window until it is settled."""

    __tablename__ = "gateway_reservations"
    __table_args__ = (Index("ix_gateway_reservations_budget", "budget_id", "subject_id"),)
    reservation_id: str = Field(sa_column=Column(Text, primary_key=True))
    budget_id: int = Field(primary_key=True)
    subject_id: int = Field(primary_key=True)
    window_start_minute: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))
    # A crashed process never settles: its holds stop counting at expiry and are purged.
    expires_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_ns: int = Field(sa_column=Column(BigInteger, nullable=False))


class GatewayCacheEntry(SQLModel, table=True):
    """One cached non-streaming response, per workspace and exact request."""

    __tablename__ = "gateway_cache"
    workspace_id: int = Field(primary_key=True)
    request_hash: str = Field(sa_column=Column(Text, primary_key=True))
    status: int = Field(sa_column=Column(Integer, nullable=False))
    content_type: str = Field(sa_column=Column(Text, nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    cost_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False))  # of the original
    created_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_ns: int = Field(sa_column=Column(BigInteger, nullable=False))
    hits: int = Field(sa_column=Column(BigInteger, nullable=False, default=0))
    saved_nanousd: int = Field(sa_column=Column(BigInteger, nullable=False, default=0))
