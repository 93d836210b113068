"""Parse `--since` values: a duration back from now (30m, 1h, 2d, 1w) or a date/time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """Return the aware UTC instant `value` names; raise ValueError with a usable message."""
    now = now or datetime.now(UTC)
    m = _DURATION.match(value)
    if m:
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"cannot read --since {value!r}: use a duration like 30m, 1h, 2d, 1w "
            "or a date/time like 2026-11-01 or 2026-11-01T09:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch."""
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
