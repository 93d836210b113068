"""Channel-keyed call matching: llm_calls.match_channels; match keys re-hashed per channel

match_key's low 32 bits become the fingerprint hash XOR a hash of the row's channel
(store.call_matching), so a lookup never reads its own channel's rows.  Stored keys are
re-hashed in place (one UPDATE per channel), and each primary records the channels of its
duplicates, which lookups no longer fetch.

Revision ID: 0009_match_channels
Revises: 0001
Create Date: 2026-11-23
"""

import zlib
from collections import defaultdict

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009_match_channels"
down_revision = "0001"
branch_labels = None
depends_on = ("0007_call_matching",)


def _channel_hash(dialect: str, source: str) -> int:
    # Frozen copy of store.call_matching._channel_hash as of this revision.
    return zlib.crc32(f"{dialect}/{source}".encode())


def _rehash() -> None:
    """XOR every stored key's low bits with its channel's hash (its own inverse)."""
    conn = op.get_bind()
    pg = conn.dialect.name == "postgresql"
    channels = conn.execute(
        sa.text("SELECT DISTINCT dialect, source FROM llm_calls WHERE match_key IS NOT NULL")
    ).all()
    xor = "match_key # :c" if pg else "(match_key | :c) - (match_key & :c)"
    for dialect, source in channels:
        conn.execute(
            sa.text(
                f"UPDATE llm_calls SET match_key = {xor}"
                " WHERE match_key IS NOT NULL AND dialect = :d AND source = :s"
            ),
            {"c": _channel_hash(dialect, source), "d": dialect, "s": source},
        )


def upgrade() -> None:
    """Add match_channels, fill it from stored duplicates, re-hash the stored keys."""
    op.add_column(
        "llm_calls",
        sa.Column(
            "match_channels", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
        ),
    )
    conn = op.get_bind()
    groups: dict[str, set[str]] = defaultdict(set)
    dups = sa.text("SELECT duplicate_of, dialect, source FROM llm_calls WHERE duplicate_of != ''")
    for primary, dialect, source in conn.execute(dups):
        groups[primary].add(f"{dialect}/{source}")
    if groups:
        conn.execute(
            sa.text("UPDATE llm_calls SET match_channels = :m WHERE call_id = :c"),
            [{"m": ",".join(sorted(ch)), "c": cid} for cid, ch in groups.items()],
        )
    _rehash()


def downgrade() -> None:
    """Restore the fingerprint-only keys and drop the column."""
    _rehash()
    op.drop_column("llm_calls", "match_channels")
