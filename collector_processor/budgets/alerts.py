"""Alert rules (pure): threshold crossings and burn-rate projections of a budget state,
and the unpriced-model alert (`raise_unpriced_model_alert`, callable by any component).

Each alert carries a dedupe key; the store keeps one alert per key, so a rule may be
evaluated after every commit and still fire once:

- threshold: one per (budget, subject, window, threshold %);
- projected: one per (budget, subject, window);
- runaway: one per (session or key, clock hour) — see `runaway`;
- unpriced_model: one per (org, provider, model), ever.

The next window has a new start, hence new keys: alerts re-arm at every window boundary.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from collector_processor.budgets.evaluate import BudgetState
from collector_processor.budgets.forecast import can_project
from collector_processor.budgets.windows import adjective
from store.alerts import Alert, insert_alert

DEFAULT_UI_URL = "http://127.0.0.1:8501"
_CENT = Decimal("0.01")
_NANO = Decimal(1_000_000_000)


def usd_text(nanousd: int) -> str:
    """'$40.12' for people; exact integers stay in the structured fields."""
    return f"${(Decimal(nanousd) / _NANO).quantize(_CENT, rounding=ROUND_HALF_EVEN):,}"


def describe_subject(state: BudgetState, name: str) -> str:
    """'user alice (agent claude-code, model claude-opus-4-8)'."""
    b = state.budget
    narrow = [f"agent {b.agent}" if b.agent else "", f"model {b.model}" if b.model else ""]
    extra = ", ".join(p for p in narrow if p)
    return f"{b.scope} {name}" + (f" ({extra})" if extra else "")


def local_time(instant: datetime, zone: str) -> str:
    """An instant as wall-clock time in the org's zone."""
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def traces_link(ui_url: str, state: BudgetState, name: str) -> str:
    """The UI page listing the costliest traces of this budget's subject in this window."""
    query = {
        "budget": state.budget.id,
        state.budget.scope: name,
        "window_start": state.window.start.isoformat(),
        "window_end": state.window.end.isoformat(),
        "sort": "cost",
    }
    return f"{ui_url.rstrip('/')}/traces?{urlencode(query)}"


def _base(state: BudgetState, name: str, user_id: int, ui_url: str) -> dict[str, object]:
    b = state.budget
    return {
        "org_id": b.org_id,
        "budget_id": b.id,
        "subject": f"{b.scope}:{name}",
        "user_id": user_id,
        "window": b.window,
        "window_start": state.window.start,
        "window_end": state.window.end,
        "spent_nanousd": state.spent_nanousd,
        "limit_nanousd": state.limit_nanousd,
        "model": b.model,
        "link": traces_link(ui_url, state, name),
    }


def threshold_alerts(state: BudgetState, name: str, user_id: int, ui_url: str) -> list[Alert]:
    """One alert per threshold the window's spend has reached."""
    b, w = state.budget, state.window
    out = []
    for pct in (p for p in b.thresholds if state.crossed(p)):
        verb = "used up" if pct >= 100 else "reached"
        blocking = (
            " New calls are blocked by the gateway." if b.mode == "hard" and pct >= 100 else ""
        )
        text = (
            f"{describe_subject(state, name)} {verb} {pct}% of its {adjective(b.window)} "
            f"budget: {usd_text(state.spent_nanousd)} of {usd_text(state.limit_nanousd)} "
            f"({w.local_label()}, resets {local_time(w.end, w.zone)}).{blocking}"
        )
        out.append(
            Alert(
                kind="threshold",
                dedupe_key=f"threshold:{b.id}:{state.subject_id}:{w.start_minute}:{pct}",
                message=text,
                threshold_pct=pct,
                projected_nanousd=state.forecast.projected_nanousd,
                **_base(state, name, user_id, ui_url),  # type: ignore[arg-type]
            )
        )
    return out


def projected_alert(state: BudgetState, name: str, user_id: int, ui_url: str) -> Alert | None:
    """An early warning when the recent burn rate runs out the limit before the window ends."""
    b, w = state.budget, state.window
    fc = state.forecast
    if state.exceeded or fc.exhaustion_at is None or not can_project(w, state.now):
        return None
    text = (
        f"{describe_subject(state, name)} is on course to exceed its {adjective(b.window)} "
        f"budget: {usd_text(state.spent_nanousd)} of {usd_text(state.limit_nanousd)} spent, "
        f"burning {usd_text(fc.rate_nanousd_per_hour)}/h; projected "
        f"{usd_text(fc.projected_nanousd)} by {local_time(w.end, w.zone)}, limit reached "
        f"around {local_time(fc.exhaustion_at, w.zone)}."
    )
    return Alert(
        kind="projected",
        dedupe_key=f"projected:{b.id}:{state.subject_id}:{w.start_minute}",
        message=text,
        projected_nanousd=fc.projected_nanousd,
        exhaustion_at=fc.exhaustion_at,
        **_base(state, name, user_id, ui_url),  # type: ignore[arg-type]
    )


def budget_alerts(state: BudgetState, name: str, user_id: int, ui_url: str) -> list[Alert]:
    """Every alert a budget state calls for (the store drops those that already fired)."""
    out = threshold_alerts(state, name, user_id, ui_url)
    projected = projected_alert(state, name, user_id, ui_url)
    return out + ([projected] if projected else [])


def unpriced_model_alert(org_id: int, model: str, provider: str, ui_url: str) -> Alert:
    """The first-sighting alert of a model without a price."""
    link = f"{ui_url.rstrip('/')}/traces?{urlencode({'model': model, 'unpriced': 1})}"
    text = (
        f"Model {model!r} ({provider or 'unknown provider'}) has no price: its calls are "
        f"stored with their tokens but count $0 towards budgets until a price is added "
        f"(`otelspend prices unpriced`)."
    )
    return Alert(
        org_id=org_id,
        kind="unpriced_model",
        dedupe_key=f"unpriced_model:{org_id}:{provider}:{model}",
        message=text,
        subject=f"model:{model}",
        model=model,
        link=link,
    )


def raise_unpriced_model_alert(
    engine: Engine, org_id: int, model: str, provider: str, *, ui_url: str = DEFAULT_UI_URL
) -> Alert | None:
    """Raise the unpriced-model alert once per (org, provider, model); None if already raised.

    Safe to call from any component and process: the store keeps one alert per model, and
    a running server claims and delivers it to the webhooks within seconds.
    """
    with engine.begin() as conn:
        return insert_alert(conn, unpriced_model_alert(org_id, model, provider, ui_url))
