"""The cost-accuracy rollup: our cost against the client's own, per org, UTC hour and model.

Only billed calls that carry a client-reported cost count (store.price_reports).  Kept on
SQLite only, by store.accuracy_rollup: calls are folded in by rowid when a report is read,
and triggers (migration 0008_ui_perf) follow later updates of calls already folded.  On
PostgreSQL both tables stay empty and the report reads the calls.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel


class AccuracyHour(SQLModel, table=True):
    """Client-reported and our cost of the calls of one (org, hour, model, provider)."""

    __tablename__ = "accuracy_hours"
    org_id: int = Field(primary_key=True)
    hour: int = Field(primary_key=True)  # whole UTC hours since the epoch (minute // 60)
    model: str = Field(primary_key=True)
    provider: str = Field(primary_key=True)
    priced_calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    client_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    ours_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Priced calls whose own difference exceeds 1 % (the report's default threshold).
    calls_off: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    unpriced_calls: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    unpriced_client_nanousd: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class AccuracyFold(SQLModel, table=True):
    """How far accuracy_hours has read llm_calls: every rowid up to last_rowid is in."""

    __tablename__ = "accuracy_folds"
    id: int = Field(primary_key=True)  # a single row, id 1
    last_rowid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
