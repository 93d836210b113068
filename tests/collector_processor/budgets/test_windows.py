"""Calendar windows across DST changes, month ends and ISO weeks (table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collector_processor.budgets.windows import (
    next_window,
    parse_window_kind,
    window_at,
)

NY, BERLIN = "America/New_York", "Europe/Berlin"


def z(text: str) -> datetime:
    """'2026-03-08T05:00' as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (zone, kind, instant UTC, expected start UTC, expected end UTC, why)
CASES = [
    (NY, "day", "2026-03-08T17:00", "2026-03-08T05:00", "2026-03-09T04:00", "spring forward: 23 h"),
    (NY, "day", "2026-11-01T17:00", "2026-11-01T04:00", "2026-11-02T05:00", "fall back: 25 h"),
    (NY, "day", "2026-11-02T04:59", "2026-11-01T04:00", "2026-11-02T05:00", "23:59 EST same day"),
    (NY, "day", "2026-11-02T05:00", "2026-11-02T05:00", "2026-11-03T05:00", "boundary is next"),
    (NY, "hour", "2026-11-01T05:30", "2026-11-01T05:00", "2026-11-01T06:00", "01:30 EDT"),
    (NY, "hour", "2026-11-01T06:30", "2026-11-01T06:00", "2026-11-01T07:00", "01:30 EST (again)"),
    (NY, "hour", "2026-03-08T06:59", "2026-03-08T06:00", "2026-03-08T07:00", "01:59 EST"),
    (NY, "hour", "2026-03-08T07:00", "2026-03-08T07:00", "2026-03-08T08:00", "03:00 EDT"),
    (NY, "week", "2026-11-01T12:00", "2026-10-26T04:00", "2026-11-02T05:00", "ISO week, DST"),
    (NY, "week", "2026-11-02T05:00", "2026-11-02T05:00", "2026-11-09T05:00", "Monday 00:00"),
    (NY, "month", "2026-03-15T12:00", "2026-03-01T05:00", "2026-04-01T04:00", "March, DST"),
    (NY, "month", "2026-02-01T04:59", "2026-01-01T05:00", "2026-02-01T05:00", "Jan 31 23:59"),
    (NY, "month", "2028-02-29T12:00", "2028-02-01T05:00", "2028-03-01T05:00", "leap Feb"),
    (NY, "month", "2026-12-31T23:00", "2026-12-01T05:00", "2027-01-01T05:00", "year end"),
    (BERLIN, "day", "2026-03-29T12:00", "2026-03-28T23:00", "2026-03-29T22:00", "spring: 23 h"),
    (BERLIN, "day", "2026-10-25T12:00", "2026-10-24T22:00", "2026-10-25T23:00", "fall: 25 h"),
    (BERLIN, "hour", "2026-10-25T00:30", "2026-10-25T00:00", "2026-10-25T01:00", "02:30 CEST"),
    (BERLIN, "hour", "2026-10-25T01:30", "2026-10-25T01:00", "2026-10-25T02:00", "02:30 CET"),
    (BERLIN, "hour", "2026-03-29T01:00", "2026-03-29T01:00", "2026-03-29T02:00", "03:00 CEST"),
    (BERLIN, "month", "2026-12-31T22:30", "2026-11-30T23:00", "2026-12-31T23:00", "Dec 31 23:30"),
    (BERLIN, "month", "2026-12-31T23:30", "2026-12-31T23:00", "2027-01-31T23:00", "Jan 1 00:30"),
    (BERLIN, "week", "2026-12-31T12:00", "2026-12-27T23:00", "2027-01-03T23:00", "week 53"),
    (BERLIN, "month", "2026-10-10T12:00", "2026-09-30T22:00", "2026-10-31T23:00", "Oct, DST"),
    ("UTC", "week", "2027-01-01T00:00", "2026-12-28T00:00", "2027-01-04T00:00", "Friday"),
    ("Asia/Kolkata", "hour", "2026-11-23T12:10", "2026-11-23T11:30", "2026-11-23T12:30", "+5:30"),
]


@pytest.mark.parametrize(("zone", "kind", "at", "start", "end", "why"), CASES)
def test_window_bounds(zone: str, kind: str, at: str, start: str, end: str, why: str) -> None:
    w = window_at(kind, z(at), zone)
    assert (w.start, w.end) == (z(start), z(end)), why
    assert w.start <= z(at) < w.end


@pytest.mark.parametrize("zone", [NY, BERLIN])
@pytest.mark.parametrize(
    ("kind", "count", "lengths_h"),
    [
        ("hour", 8760, {1}),
        ("day", 365, {23, 24, 25}),
        ("month", 12, {28 * 24, 30 * 24, 30 * 24 + 1, 31 * 24, 31 * 24 - 1, 31 * 24 + 1}),
    ],
)
def test_windows_tile_a_year(zone: str, kind: str, count: int, lengths_h: set[int]) -> None:
    """Consecutive windows are contiguous, never overlap, and cover every real hour once."""
    w = window_at(kind, z("2026-01-01T12:00"), zone)
    first, n, seen = w.start, 0, set()
    while w.start < first + timedelta(days=365):
        nxt = next_window(w)
        assert nxt.start == w.end
        seen.add(int(w.length.total_seconds()) // 3600)
        n, w = n + 1, nxt
    assert n == count
    assert seen <= lengths_h and (23 in seen or kind != "day")


def test_minutes_and_labels() -> None:
    w = window_at("day", z("2026-11-01T17:00"), NY)
    assert w.end_minute - w.start_minute == 25 * 60
    assert w.local_label() == "2026-11-01"
    assert window_at("week", z("2026-12-31T12:00"), BERLIN).local_label() == "2026-W53"
    assert window_at("hour", z("2026-11-01T06:30"), NY).local_label() == "2026-11-01 01:00 EST"


def test_window_kind_aliases_and_errors() -> None:
    assert [parse_window_kind(k) for k in ("daily", "Hour", "weekly", "month")] == [
        "day",
        "hour",
        "week",
        "month",
    ]
    with pytest.raises(ValueError, match="unknown window"):
        parse_window_kind("fortnight")
    with pytest.raises(ValueError, match="unknown time zone"):
        window_at("day", z("2026-01-01T00:00"), "Mars/Olympus")
    with pytest.raises(ValueError, match="aware"):
        window_at("day", datetime(2026, 1, 1), NY)
