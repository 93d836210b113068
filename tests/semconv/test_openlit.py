"""OpenLIT: GenAI semconv plus gen_ai.usage.cost."""

from __future__ import annotations

from decimal import Decimal

from semconv.normalize import normalize_logs, normalize_spans
from tests.semconv._records import log, span

ATTRS = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 150,
    "gen_ai.usage.output_tokens": 40,
    "gen_ai.usage.total_tokens": 190,
    "gen_ai.usage.cost": 0.0000465,
}
RESOURCE = {"service.name": "rag-app", "telemetry.sdk.name": "openlit"}


def test_openlit_span_carries_its_cost_as_client_cost() -> None:
    [call] = normalize_spans([span("openai.chat.completions", ATTRS, resource=RESOURCE)]).calls
    assert (call.dialect, call.provider) == ("openlit", "openai")
    assert (call.input_tokens, call.output_tokens) == (150, 40)
    assert call.client_cost_usd == Decimal("0.0000465")


def test_openlit_is_recognised_by_sdk_name_without_cost() -> None:
    attrs = {k: v for k, v in ATTRS.items() if k != "gen_ai.usage.cost"}
    [call] = normalize_spans([span("chat", attrs, resource=RESOURCE)]).calls
    assert (call.dialect, call.client_cost_usd) == ("openlit", None)


def test_openlit_cost_on_a_plain_resource_still_selects_openlit() -> None:
    [call] = normalize_spans([span("chat", ATTRS)]).calls
    assert call.dialect == "openlit"


def test_openlit_log_event() -> None:
    batch = normalize_logs([log(ATTRS, event_name="gen_ai.client.inference.operation.details")])
    [call] = batch.calls
    assert (call.dialect, call.source, call.client_cost_usd) == (
        "openlit",
        "log",
        Decimal("0.0000465"),
    )
