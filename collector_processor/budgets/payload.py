"""The webhook body of an alert: Slack-compatible, and structured for machines.

- `text`: one readable line (Slack renders `<url|label>` as a link);
- `attachments[0].fields`: the same facts as Slack attachment fields (title / value);
- `otelspend`: the structured alert — scope, window, spent, limit, threshold, projected
  exhaustion, link — with exact integer nano-USD beside decimal dollar strings.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from collector_processor.budgets.alerts import usd_text
from store.alerts import Alert

_NANO = Decimal(1_000_000_000)
_TITLES = {
    "threshold": "Budget threshold reached",
    "projected": "Budget projected to run out",
    "runaway": "Runaway spend",
    "unpriced_model": "Unpriced model seen",
}
_COLORS = {"threshold": "warning", "projected": "warning", "runaway": "danger"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _usd(nanousd: int | None) -> str | None:
    return None if nanousd is None else str(Decimal(nanousd) / _NANO)


def structured(alert: Alert, org: str) -> dict[str, Any]:
    """The machine-readable alert."""
    return {
        "alert_id": alert.id,
        "kind": alert.kind,
        "org": org,
        "org_id": alert.org_id,
        "budget_id": alert.budget_id or None,
        "scope": alert.subject,
        "window": {
            "kind": alert.window or None,
            "start": _iso(alert.window_start),
            "end": _iso(alert.window_end),
        },
        "spent_usd": _usd(alert.spent_nanousd),
        "spent_nanousd": alert.spent_nanousd,
        "limit_usd": _usd(alert.limit_nanousd) if alert.kind != "runaway" else None,
        "limit_nanousd": alert.limit_nanousd if alert.kind != "runaway" else None,
        "baseline_usd_per_minute": _usd(alert.limit_nanousd) if alert.kind == "runaway" else None,
        "threshold_pct": alert.threshold_pct or None,
        "projected_usd": _usd(alert.projected_nanousd),
        "projected_exhaustion": _iso(alert.exhaustion_at),
        "session_id": alert.session_id or None,
        "trace_id": alert.trace_id or None,
        "model": alert.model or None,
        "link": alert.link or None,
        "created_at": _iso(alert.created_at),
        "message": alert.message,
    }


def _fields(alert: Alert) -> list[dict[str, Any]]:
    rows: list[tuple[str, str | None]] = [
        ("Scope", alert.subject),
        ("Window", f"{alert.window} from {_iso(alert.window_start)}" if alert.window else None),
        ("Spent", usd_text(alert.spent_nanousd) if alert.kind != "unpriced_model" else None),
        ("Limit", usd_text(alert.limit_nanousd) if alert.window else None),
        ("Threshold", f"{alert.threshold_pct}%" if alert.threshold_pct else None),
        ("Projected exhaustion", _iso(alert.exhaustion_at)),
        ("Session", alert.session_id or None),
        ("Trace", alert.trace_id or None),
        ("Costliest traces", alert.link or None),
    ]
    return [{"title": t, "value": v, "short": len(v) < 40} for t, v in rows if v]


def slack_payload(alert: Alert, org: str) -> dict[str, Any]:
    """The JSON body POSTed to a webhook for `alert` (raised in `org`)."""
    title = _TITLES.get(alert.kind, alert.kind)
    link = f" <{alert.link}|costliest traces>" if alert.link else ""
    return {
        "text": f"otelspend [{org}] — {title}: {alert.message}{link}",
        "attachments": [
            {
                "fallback": alert.message,
                "color": _COLORS.get(alert.kind, "#439FE0"),
                "title": title,
                "fields": _fields(alert),
            }
        ],
        "otelspend": structured(alert, org),
    }
