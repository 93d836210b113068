"""The normalizers on exact bytes real Claude Code and Codex CLIs exported."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from collector_processor.otlp.decode import decode_logs, decode_metrics, decode_traces
from semconv.normalize import normalize_logs, normalize_metrics, normalize_spans
from semconv.records import GRANULARITY_AGGREGATE, GRANULARITY_CALL, LlmCall, NormalizedBatch

# The captures live beside the repository (shared/fixtures), never inside it.
from tests.fixture_paths import REAL_CLIENTS  # noqa: E402

FIXTURES = REAL_CLIENTS
CLAUDE = FIXTURES / "claude-code-2.1.197"
CODEX = FIXTURES / "codex-0.169.0"
ENCODINGS = [("protobuf", "pb"), ("json", "json")]


def _normalize(folder: Path, signal: str, encoding: str, ext: str) -> NormalizedBatch:
    body = (folder / f"{signal}.otlp.{ext}").read_bytes()
    if signal == "traces":
        return normalize_spans(decode_traces(body, encoding))
    if signal == "logs":
        return normalize_logs(decode_logs(body, encoding))
    return normalize_metrics(decode_metrics(body, encoding))


def _tokens(call: LlmCall) -> tuple[int, int, int, int, int]:
    return (
        call.input_tokens,
        call.cache_read_tokens,
        call.cache_write_tokens,
        call.output_tokens,
        call.reasoning_tokens,
    )


@pytest.mark.parametrize(("encoding", "ext"), ENCODINGS)
def test_claude_code_span_log_and_metrics_describe_one_call(encoding: str, ext: str) -> None:
    batches = {s: _normalize(CLAUDE, s, encoding, ext) for s in ("traces", "logs", "metrics")}
    assert all(b.rejections == [] for b in batches.values())
    calls = [c for b in batches.values() for c in b.calls]
    per_call = [c for c in calls if c.granularity == GRANULARITY_CALL]
    aggregates = [c for c in calls if c.granularity == GRANULARITY_AGGREGATE]

    assert sorted(c.source for c in per_call) == ["log", "span"]
    assert len({c.call_id for c in per_call}) == 1, "span and log must dedupe to one call"
    assert aggregates and all(c.source == "metric" for c in aggregates)
    for call in calls:
        assert _tokens(call) == (1200, 5000, 800, 300, 0)
        assert call.dialect == "claude_code"
        assert call.provider == "anthropic"
        assert call.model.startswith("claude-opus-4-8")
    [from_log] = [c for c in per_call if c.source == "log"]
    assert from_log.client_cost_usd == Decimal("0.021")
    assert len({c.session_id for c in calls}) == 1
    assert sum((a.client_cost_usd or Decimal(0)) for a in aggregates) == pytest.approx(
        Decimal("0.021")
    )


def test_claude_code_captures_are_two_different_calls() -> None:
    ids = {_normalize(CLAUDE, "logs", enc, ext).calls[0].call_id for enc, ext in ENCODINGS}
    assert len(ids) == 2  # two CLI runs, two sessions


def test_codex_yields_one_call_and_one_turn_aggregate() -> None:
    traces = _normalize(CODEX, "traces", "protobuf", "pb")
    logs = _normalize(CODEX, "logs", "protobuf", "pb")
    assert traces.rejections == [] and logs.rejections == []

    [call] = logs.calls
    [turn] = traces.calls
    assert (call.granularity, call.source) == (GRANULARITY_CALL, "log")
    assert (turn.granularity, turn.source) == (GRANULARITY_AGGREGATE, "span")
    for record in (call, turn):
        assert _tokens(record) == (200, 1000, 0, 300, 100)
        assert (record.model, record.agent_name, record.dialect) == (
            "gpt-5.1-codex",
            "codex",
            "codex",
        )
    assert call.session_id == turn.session_id == "01a205a9-a176-72c2-b721-bec6a4fb33c4"
    assert call.end_ns > 0


def test_resending_a_capture_yields_the_same_ids() -> None:
    for folder, signal in [
        (CLAUDE, "traces"),
        (CLAUDE, "logs"),
        (CLAUDE, "metrics"),
        (CODEX, "logs"),
        (CODEX, "traces"),
    ]:
        first = _normalize(folder, signal, "protobuf", "pb").calls
        again = _normalize(folder, signal, "protobuf", "pb").calls
        assert [c.call_id for c in first] == [c.call_id for c in again]
