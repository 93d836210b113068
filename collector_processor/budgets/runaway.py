"""Runaway detector: a session or key whose spend per minute jumps far above its own baseline.

The baseline is the mean spend of the minutes in which the subject was active during the
previous `baseline_minutes` (idle minutes do not drag it to zero: a loop is judged against
how the agent spends while working).  A subject needs `min_active_minutes` of history, so a
new session starting big is not a "jump"; the minute must also cost at least
`min_nanousd_per_minute`, so a jump from $0.001 to $0.01 stays quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from collector_processor.budgets.alerts import usd_text
from store.alerts import Alert
from store.spend_series import Series

_MINUTES_PER_HOUR = 60
_SECONDS_PER_MINUTE = 60


@dataclass(frozen=True, slots=True)
class RunawayPolicy:
    """When a minute's spend counts as a runaway (validated at construction)."""

    factor: int = 5
    min_nanousd_per_minute: int = 1_000_000_000  # $1 per minute
    baseline_minutes: int = 15
    min_active_minutes: int = 3

    def __post_init__(self) -> None:
        if self.factor < 2 or self.baseline_minutes < 1 or self.min_active_minutes < 1:
            raise ValueError("runaway factor >= 2, baseline and history >= 1 minute")
        if self.min_active_minutes > self.baseline_minutes:
            raise ValueError("min_active_minutes cannot exceed baseline_minutes")


@dataclass(frozen=True, slots=True)
class Runaway:
    """A detected jump: the minute, its spend and the baseline it is compared with."""

    minute: int
    spent_nanousd: int
    baseline_nanousd: int

    @property
    def ratio(self) -> int:
        """How many times the baseline the minute cost (rounded down)."""
        return self.spent_nanousd // max(self.baseline_nanousd, 1)


def detect(series: Series, minute: int, policy: RunawayPolicy) -> Runaway | None:
    """Judge `minute` of a per-minute series against the minutes before it (pure)."""
    current = series.get(minute, 0)
    if current < policy.min_nanousd_per_minute:
        return None
    prior = [series.get(m, 0) for m in range(minute - policy.baseline_minutes, minute)]
    active = [v for v in prior if v > 0]
    if len(active) < policy.min_active_minutes:
        return None
    baseline = sum(active) // len(active)
    if current < policy.factor * max(baseline, 1):
        return None
    return Runaway(minute, current, baseline)


def runaway_key(org_id: int, subject: str, minute: int) -> str:
    """Dedupe key: one runaway alert per subject per clock hour (UTC)."""
    return f"runaway:{org_id}:{subject}:{minute // _MINUTES_PER_HOUR}"


def runaway_alert(
    org_id: int,
    subject: str,
    user_id: int,
    found: Runaway,
    session_id: str,
    trace: tuple[str, int],
    ui_url: str,
) -> Alert:
    """The alert naming the session and its costliest trace; once per subject per hour."""
    at = datetime.fromtimestamp(found.minute * _SECONDS_PER_MINUTE, UTC)
    trace_id, trace_cost = trace
    named = f" in session {session_id}" if session_id and not subject.startswith("session:") else ""
    costliest = f" Costliest trace: {trace_id} ({usd_text(trace_cost)})." if trace_id else ""
    text = (
        f"Runaway spend: {subject}{named} spent {usd_text(found.spent_nanousd)} in the minute "
        f"from {at:%Y-%m-%d %H:%M} UTC, {found.ratio}x its recent baseline of "
        f"{usd_text(found.baseline_nanousd)}/min — an agent may be looping.{costliest}"
    )
    query = {"session": session_id, "trace": trace_id, "sort": "cost"}
    link_query = urlencode({k: v for k, v in query.items() if v})
    return Alert(
        org_id=org_id,
        kind="runaway",
        dedupe_key=runaway_key(org_id, subject, found.minute),
        message=text,
        subject=subject,
        user_id=user_id,
        spent_nanousd=found.spent_nanousd,
        limit_nanousd=found.baseline_nanousd,
        window_start=at,
        session_id=session_id,
        trace_id=trace_id,
        link=f"{ui_url.rstrip('/')}/traces?{link_query}",
    )
