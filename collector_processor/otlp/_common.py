"""Rules shared by the protobuf and OTLP/JSON decoders, so both encodings agree exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from semconv.records import Attributes

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_NS_PER_US = 1000


def log_time_ns(time_ns: int, observed_ns: int, attributes: Attributes) -> int:
    """Return the log's event time: time, else observed time, else its `event.timestamp`."""
    if time_ns:
        return time_ns
    if observed_ns:
        return observed_ns
    # Codex sends time 0; its own ISO-8601 `event.timestamp` is the best remaining clock.
    stamp = attributes.get("event.timestamp")
    return iso8601_to_ns(stamp) if isinstance(stamp, str) else 0


def iso8601_to_ns(stamp: str) -> int:
    """Convert an ISO-8601 timestamp ('2026-11-22T23:48:52.802Z') to Unix ns; 0 if unreadable."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a zone-less stamp from a telemetry SDK is UTC
    return (moment - _EPOCH) // _MICROSECOND * _NS_PER_US


def log_event_name(event_name: str, attributes: Attributes) -> str:
    """Return the event_name field, else a string `event.name` attribute, else ""."""
    if event_name:
        return event_name
    name = attributes.get("event.name")
    return name if isinstance(name, str) else ""


def body_hint(body: bytes) -> str:
    """Name the likely mistake when a body is plainly in another encoding."""
    if body[:2] == b"\x1f\x8b":
        return "; body looks gzip-compressed: send Content-Encoding: gzip"
    if body.lstrip()[:1] in (b"{", b"["):
        return "; body looks like JSON: send Content-Type: application/json"
    return ""
