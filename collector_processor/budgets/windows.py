"""Calendar budget windows (hour, day, ISO week, month) in an org's IANA time zone.

Windows are computed on local wall-clock time and converted to UTC instants, so a day in
New York is 23 or 25 hours long across DST changes, and a local hour that happens twice
(fall back) is two separate hourly windows.  Per-minute rollups are keyed by UTC minute; every
IANA offset in use is a whole number of minutes, so window bounds fall on minute boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WINDOW_KINDS = ("hour", "day", "week", "month")
_ALIASES = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}
_ALIASES.update({k: k for k in WINDOW_KINDS})
_ADJECTIVES = {"hour": "hourly", "day": "daily", "week": "weekly", "month": "monthly"}
_NS_PER_MINUTE = 60_000_000_000
_SECONDS_PER_MINUTE = 60


def parse_window_kind(value: str) -> str:
    """Return the canonical window kind for 'day', 'daily', ...; raise ValueError otherwise."""
    kind = _ALIASES.get(value.strip().lower())
    if kind is None:
        raise ValueError(f"unknown window {value!r}; use one of {', '.join(WINDOW_KINDS)}")
    return kind


def adjective(kind: str) -> str:
    """'day' -> 'daily' (for messages)."""
    return _ADJECTIVES[kind]


def org_zone(name: str) -> ZoneInfo:
    """Return the ZoneInfo of an IANA name; raise ValueError with a usable message."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like Europe/Berlin"
        ) from None


@dataclass(frozen=True, slots=True)
class BudgetWindow:
    """One calendar window [start, end) as aware UTC instants, plus the zone it was cut in."""

    kind: str
    start: datetime
    end: datetime
    zone: str

    @property
    def start_minute(self) -> int:
        """First UTC minute (since the epoch) inside the window."""
        return int(self.start.timestamp()) // _SECONDS_PER_MINUTE

    @property
    def end_minute(self) -> int:
        """First UTC minute after the window."""
        return int(self.end.timestamp()) // _SECONDS_PER_MINUTE

    @property
    def length(self) -> timedelta:
        """Real elapsed length (23 h or 25 h for a DST day)."""
        return self.end - self.start

    def local_label(self) -> str:
        """The window as people say it in the org's zone: '2026-11-01', '2026-W44', ..."""
        local = self.start.astimezone(ZoneInfo(self.zone))
        if self.kind == "hour":
            return local.strftime("%Y-%m-%d %H:00 %Z")
        if self.kind == "day":
            return local.strftime("%Y-%m-%d")
        if self.kind == "week":
            year, week, _ = local.isocalendar()
            return f"{year}-W{week:02d}"
        return local.strftime("%Y-%m")


def window_at(kind: str, instant: datetime, zone: str) -> BudgetWindow:
    """Return the `kind` window of `zone` that contains `instant` (aware)."""
    if instant.tzinfo is None:
        raise ValueError("window_at needs an aware datetime")
    tz = org_zone(zone)
    local = instant.astimezone(tz)
    if kind == "hour":
        start = _hour_start(local)
        # An absolute hour: correct in the repeated hour of a fall-back night, where the
        # next local "hour start" has the same wall-clock time with fold=1.
        end = _hour_start((start + timedelta(hours=1)).astimezone(tz))
        if end <= start:
            end = start + timedelta(hours=1)
        return BudgetWindow(kind, start, end, zone)
    first = _first_day(kind, local.date())
    return BudgetWindow(
        kind, _midnight(first, tz), _midnight(_next_first_day(kind, first), tz), zone
    )


def next_window(window: BudgetWindow) -> BudgetWindow:
    """The window right after `window`."""
    return window_at(window.kind, window.end, window.zone)


def _hour_start(local: datetime) -> datetime:
    """Start of the local hour containing `local`, as UTC; minutes of the offset preserved."""
    floored = local.replace(minute=0, second=0, microsecond=0)
    start = floored.astimezone(UTC)
    # Zones with a half-hour DST shift can make the floored wall time ambiguous in a way
    # that lands after `local`; the hour then started at the transition itself.
    return min(start, local.astimezone(UTC))


def _first_day(kind: str, day: date) -> date:
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if kind == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown window {kind!r}; use one of {', '.join(WINDOW_KINDS)}")


def _next_first_day(kind: str, first: date) -> date:
    if kind == "day":
        return first + timedelta(days=1)
    if kind == "week":
        return first + timedelta(days=7)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _midnight(day: date, tz: tzinfo) -> datetime:
    """The first instant of a local day, as UTC.

    Where midnight itself is skipped by a DST jump (e.g. America/Santiago), fold=0 reads the
    missing wall time with the earlier offset, which is exactly the first instant that exists.
    """
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def minute_of(instant: datetime) -> int:
    """UTC minute since the epoch of an aware instant."""
    return int(instant.timestamp()) // _SECONDS_PER_MINUTE


def minute_of_ns(ns: int) -> int:
    """UTC minute since the epoch of a nanosecond timestamp."""
    return ns // _NS_PER_MINUTE
