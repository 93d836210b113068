"""A call stored without usage takes the usage of its later same-id description, and the
rollups and trace summaries move with it (both databases)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from collector_processor.pricing.engine import NO_USAGE_REASON
from store.writer import StoreWriter, WriteBatch
from tests.store import test_writer
from tests.store.test_writer import _ids, call_row

engine = test_writer.engine  # fixture: a migrated store on each backend
writer = test_writer.writer  # fixture

ZERO = dict.fromkeys(
    ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens"), 0
)


def _sums(engine: Engine, table: str) -> tuple[int, ...]:
    sums = "sum(calls), sum(unpriced_calls), sum(cost_nanousd), sum(output_tokens)"
    sql = f"SELECT {sums} FROM {table}"
    with engine.connect() as conn:
        return tuple(int(x or 0) for x in conn.execute(text(sql)).one())


def test_a_usage_less_call_takes_the_usage_of_its_second_description(
    engine: Engine, writer: StoreWriter
) -> None:
    ids = _ids(engine)
    bare = call_row(
        ids, "c1", cost_nanousd=None, unpriced_reason=NO_USAGE_REASON, trace_id="ab" * 16, **ZERO
    )
    full = call_row(ids, "c1", trace_id="ab" * 16, dialect="genai", source="log")
    writer.submit(WriteBatch(org_id=ids[0], calls=[bare])).result(timeout=30)
    assert _sums(engine, "spend_minutes") == (1, 1, 0, 0)
    for _ in range(2):  # a resend of the usage-bearing description changes nothing more
        writer.submit(WriteBatch(org_id=ids[0], calls=[dict(full)])).result(timeout=30)
        assert _sums(engine, "spend_minutes") == (1, 0, 21_000_000, 300)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT cost_nanousd, unpriced_reason, output_tokens FROM llm_calls")
        ).one()
    assert tuple(row) == (21_000_000, "", 300)
    if engine.dialect.name == "sqlite":  # PostgreSQL reads traces from llm_calls directly
        assert _sums(engine, "trace_spend") == (1, 0, 21_000_000, 300)


def test_both_descriptions_in_one_batch(engine: Engine, writer: StoreWriter) -> None:
    ids = _ids(engine)
    bare = call_row(ids, "c2", cost_nanousd=None, unpriced_reason=NO_USAGE_REASON, **ZERO)
    full = call_row(ids, "c2")
    writer.submit(WriteBatch(org_id=ids[0], calls=[bare, full])).result(timeout=30)
    assert _sums(engine, "spend_minutes") == (1, 0, 21_000_000, 300)
