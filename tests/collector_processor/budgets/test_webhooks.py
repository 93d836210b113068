"""Webhook delivery to a local test server: payload, retries with backoff, failures recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collector_processor.budgets.alerts import raise_unpriced_model_alert
from collector_processor.budgets.webhooks import WebhookDispatcher, redact, validate_webhook
from store.alerts import Alert, list_alerts
from tests.collector_processor.budgets.hook import Hook, wait_for, webhook_receiver
from tests.collector_processor.budgets.world import World

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def hook() -> Iterator[Hook]:
    with webhook_receiver() as state:
        yield state


def threshold_alert(world: World) -> Alert:
    """Exactly one alert: the 80% threshold (spent early in the day: nothing to project)."""
    world.budget("user", "alice", "day", 10, thresholds=(80,))
    world.clock.now = NOON.replace(hour=23, minute=50)
    raised = world.evaluator().evaluate([world.spend("alice", 9, NOON.replace(hour=0))])
    assert [a.threshold_pct for a in raised] == [80]
    return raised[0]


def deliveries(world: World, alert_id: int) -> list[Any]:
    return [a for a in list_alerts(world.engine) if a.id == alert_id][0].deliveries


def test_delivery_retries_with_backoff_until_the_hook_answers(
    sqlite_world: World, hook: Hook
) -> None:
    world = sqlite_world
    hook.fail_first = 2
    alert = threshold_alert(world)
    d = WebhookDispatcher(world.engine, [hook.url], backoff_s=0.05, max_attempts=4)
    try:
        d.submit([alert])
        wait_for(
            lambda: (
                deliveries(world, alert.id) and deliveries(world, alert.id)[0].status == "delivered"
            )
        )
    finally:
        d.close()
    assert len(hook.times) == 3
    gaps = [b - a for a, b in zip(hook.times, hook.times[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1  # exponential: 0.05 s, then 0.1 s
    (row,) = deliveries(world, alert.id)
    assert (row.status, row.attempts) == ("delivered", 3)
    assert row.webhook == redact(hook.url) and "SECRET" not in row.webhook
    assert (d.stats.delivered, d.stats.retried, d.stats.failed) == (1, 2, 0)
    body = hook.bodies[0]
    assert "user alice reached 80% of its daily budget" in body["text"]
    assert "<http://127.0.0.1:8501/traces?budget=" in body["text"]
    fields = {f["title"]: f["value"] for f in body["attachments"][0]["fields"]}
    assert fields["Scope"] == "user:alice" and fields["Threshold"] == "80%"
    assert fields["Spent"] == "$9.00" and fields["Limit"] == "$10.00"
    s = body["otelspend"]
    assert (s["kind"], s["org"], s["scope"], s["threshold_pct"]) == (
        "threshold",
        "acme",
        "user:alice",
        80,
    )
    assert body["text"].startswith("otelspend [acme] — Budget threshold reached: user alice")
    assert (s["spent_usd"], s["limit_usd"], s["spent_nanousd"]) == ("9", "10", 9_000_000_000)
    assert s["window"] == {
        "kind": "day",
        "start": "2026-11-23T00:00:00+00:00",
        "end": "2026-11-24T00:00:00+00:00",
    }
    assert s["link"].startswith("http://127.0.0.1:8501/traces?budget=")
    assert "projected_exhaustion" in s


def test_a_hook_that_keeps_failing_is_recorded_as_failed(sqlite_world: World, hook: Hook) -> None:
    world = sqlite_world
    hook.fail_first = 99
    alert = threshold_alert(world)
    d = WebhookDispatcher(world.engine, [hook.url], backoff_s=0.01, max_attempts=3)
    try:
        d.submit([alert])
        wait_for(lambda: d.stats.failed == 1)
    finally:
        d.close()
    wait_for(lambda: deliveries(world, alert.id)[0].status == "failed")
    (row,) = deliveries(world, alert.id)
    assert (row.attempts, row.last_error) == (3, "HTTP 500: try later")
    assert len(hook.times) == 3


def test_unreachable_hook_fails_without_blocking(sqlite_world: World) -> None:
    world = sqlite_world
    alert = threshold_alert(world)
    dead = "http://127.0.0.1:9/unreachable"  # discard port: nothing listens
    d = WebhookDispatcher(world.engine, [dead], backoff_s=0.01, max_attempts=2)
    started = time.monotonic()
    d.submit([alert])  # returns at once
    assert time.monotonic() - started < 0.1
    try:
        wait_for(lambda: d.stats.failed == 1)
    finally:
        d.close()
    wait_for(lambda: deliveries(world, alert.id)[0].status == "failed")
    assert "Connection refused" in deliveries(world, alert.id)[0].last_error


def test_alerts_raised_elsewhere_are_swept_and_sent_once(world: World, hook: Hook) -> None:
    first = WebhookDispatcher(world.engine, [hook.url], sweep_interval_s=0.05)
    second = WebhookDispatcher(world.engine, [hook.url], sweep_interval_s=0.05)
    try:
        alert = raise_unpriced_model_alert(world.engine, world.org.id, "mystery-1", "acme")
        assert alert is not None
        hook.received.wait(10)
        time.sleep(0.2)  # give the other dispatcher every chance to send it again
    finally:
        first.close()
        second.close()
    assert [b["otelspend"]["kind"] for b in hook.bodies] == ["unpriced_model"]
    assert len(deliveries(world, alert.id)) == 1


def test_old_undispatched_alerts_are_not_swept(sqlite_world: World, hook: Hook) -> None:
    world = sqlite_world
    from sqlalchemy import update

    from store.alerts import ALERTS

    alert = raise_unpriced_model_alert(world.engine, world.org.id, "old-model", "acme")
    assert alert is not None
    with world.engine.begin() as conn:
        stale = datetime.now(UTC) - timedelta(days=2)
        conn.execute(update(ALERTS).where(ALERTS.c.id == alert.id).values(created_at=stale))
    d = WebhookDispatcher(world.engine, [hook.url], sweep_interval_s=0.02)
    time.sleep(0.15)
    d.close()
    assert hook.bodies == []


def test_webhook_urls_are_validated() -> None:
    with pytest.raises(ValueError, match="http"):
        validate_webhook("ftp://example.com/x")
    with pytest.raises(ValueError, match="http"):
        validate_webhook("hooks.slack.com/services/X")
