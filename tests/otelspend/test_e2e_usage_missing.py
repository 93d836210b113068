"""A GenAI call span without usage, through the OTLP receiver: an unpriced call, never $0.

Claude Sonnet 4.5: $3 input, $15 output per MTok, so the one call that reports usage
(1000 in, 100 out) costs 3000 + 1500 = 4500 micro-USD = $0.004500.
"""

from __future__ import annotations

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from sqlalchemy import select

from collector_processor.pricing.engine import NO_USAGE_REASON
from store.engine import make_engine
from store.queries import unpriced_models
from store.tables import LlmCallRow
from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import post, spend_json
from tests.otelspend.test_e2e_bad_input import GOOD_MODEL, _kv, chat_span, request

PB = "application/x-protobuf"
NO_USAGE = {"gen_ai.usage.input_tokens": None, "gen_ai.usage.output_tokens": None}
CALLS = LlmCallRow.__table__  # type: ignore[attr-defined]


def failed(span: Span) -> Span:
    span.status.CopyFrom(Status(code=Status.STATUS_CODE_ERROR, message="429 Too Many Requests"))
    span.attributes.append(_kv("error.type", "anthropic.RateLimitError"))
    return span


def details_event(span: Span, input_tokens: int, output_tokens: int) -> bytes:
    """The semconv inference-details event, emitted in the context of `span`."""
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": GOOD_MODEL,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }
    record = LogRecord(
        time_unix_nano=span.end_time_unix_nano,
        trace_id=span.trace_id,
        span_id=span.span_id,
        event_name="gen_ai.client.inference.operation.details",
        attributes=[_kv(k, v) for k, v in attrs.items()],
    )
    rl = ResourceLogs(scope_logs=[ScopeLogs(log_records=[record])])
    rl.resource.attributes.append(_kv("service.name", "agent-x"))
    return ExportLogsServiceRequest(resource_logs=[rl]).SerializeToString()


def model_row(db: str) -> dict[str, object]:
    [row] = spend_json(db, "model")
    assert row["model"] == GOOD_MODEL
    return row


def test_call_without_usage_is_one_unpriced_call(live_server: LiveServer) -> None:
    ep, key, db = live_server.http_endpoint, live_server.key, live_server.db
    priced, no_usage = chat_span(1), chat_span(2, **NO_USAGE)
    error = failed(chat_span(3, **NO_USAGE))
    for _ in range(2):  # an exporter retry adds nothing
        status, _ = post(ep, "traces", request(priced, no_usage, error), key=key, content_type=PB)
        assert status == 200

    row = model_row(db)
    assert (row["calls"], row["unpriced_calls"]) == (2, 1)  # the failed request is no call
    assert (row["cost_usd"], row["cost_nanousd"]) == ("0.004500", 4_500_000)
    assert (row["input_tokens"], row["output_tokens"]) == (1000, 100)
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                select(CALLS.c.cost_nanousd, CALLS.c.unpriced_reason, CALLS.c.model).where(
                    CALLS.c.span_id == no_usage.span_id.hex()
                )
            ).one()
    finally:
        engine.dispose()
    assert tuple(stored) == (None, NO_USAGE_REASON, GOOD_MODEL)  # unknown, not $0
    # Its model has a price: `prices unpriced` must not list it as a model to price.
    check = make_engine(db)
    try:
        assert [m.model for m in unpriced_models(check)] == []
    finally:
        check.dispose()


def test_details_event_and_its_usage_less_span_count_once(live_server: LiveServer) -> None:
    ep, key, db = live_server.http_endpoint, live_server.key, live_server.db
    span = chat_span(4, **NO_USAGE)
    # The event with usage arrives first; its span, without usage, later: one priced call.
    assert post(ep, "logs", details_event(span, 1000, 100), key=key, content_type=PB)[0] == 200
    assert post(ep, "traces", request(span), key=key, content_type=PB)[0] == 200
    row = model_row(db)
    assert (row["calls"], row["unpriced_calls"], row["cost_nanousd"]) == (1, 0, 4_500_000)

    # The other order: the usage-less span first (stored unpriced), then the event: the same
    # call, no second one, and it takes the event's usage and price; a resend changes nothing.
    later = chat_span(5, **NO_USAGE)
    assert post(ep, "traces", request(later), key=key, content_type=PB)[0] == 200
    assert model_row(db)["unpriced_calls"] == 1
    for _ in range(2):
        assert post(ep, "logs", details_event(later, 1000, 100), key=key, content_type=PB)[0] == 200
        row = model_row(db)
        assert (row["calls"], row["unpriced_calls"], row["cost_nanousd"]) == (2, 0, 9_000_000)
        assert (row["input_tokens"], row["output_tokens"]) == (2000, 200)
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                select(CALLS.c.cost_nanousd, CALLS.c.unpriced_reason, CALLS.c.match_key).where(
                    CALLS.c.span_id == later.span_id.hex()
                )
            ).one()
    finally:
        engine.dispose()
    assert stored[:2] == (4_500_000, "") and stored[2] is not None  # matchable from now on
