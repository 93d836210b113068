"""GET /v1/budget/check: may this key spend right now?  For clients that bypass the gateway.

Mounted on the OTLP/HTTP port (build_http_app(extra_routes=...)) and guarded by the same
ingest keys.  Query parameters `agent` and `model` (both optional) let agent- or
model-filtered budgets match, e.g. `?agent=claude-code`.  The answer (200, JSON):

    {"allow": false, "message": "...", "checked_at": "...",
     "budgets": [{"id": 3, "scope": "user", "subject": "alice", "window": "day",
                  "mode": "hard", "limit_usd": "5.000000", "spent_usd": "5.012600",
                  "remaining_usd": "-0.012600", "exceeded": true,
                  "resets_at": "2026-11-24T00:00:00+00:00"}, ...]}

`allow` is false when a hard budget matching the key (org, workspace, user, key; agent and
model filters) is used up; soft budgets are listed for information only.  The decision comes
from collector_processor import errors
from collector_processor.budgets.evaluate.check_call, the same rule the gateway applies.
401 for a missing, unknown or revoked key; 503 when the store cannot answer.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from collector_processor import errors
from collector_processor.budgets.evaluate import BudgetState, CallScope, check_call
from collector_processor.budgets.windows import adjective
from collector_processor.consumer import Authenticator, IngestKey
from collector_processor.receiver import status
from collector_processor.receiver.signals import bearer_token
from store.subjects import org_by_id, subject_names

log = logging.getLogger(__name__)

BUDGET_CHECK_PATH = "/v1/budget/check"
_NANO_PER_USD = Decimal(1_000_000_000)
_MICRO = Decimal("0.000001")
_MAX_FILTER_CHARS = 200


def budget_check_routes(engine: Engine, auth: Authenticator) -> list[web.RouteDef]:
    """The route to pass as build_http_app(extra_routes=...)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            key = auth.authenticate(bearer_token(request.headers.get("Authorization")))
            agent = request.query.get("agent", "")[:_MAX_FILTER_CHARS]
            model = request.query.get("model", "")[:_MAX_FILTER_CHARS]
            answer = await asyncio.to_thread(check_key, engine, key, agent, model)
        except Exception as exc:  # a failure is an answer with the right status, never a crash
            if isinstance(exc, SQLAlchemyError):
                log.warning("budget check: store unavailable: %s", exc)
                exc = errors.Unavailable("the store cannot answer the budget check right now")
            reply = status.answer_for(exc)
            return web.json_response(
                {"error": reply.message},
                status=reply.http_status,
                headers=status.http_headers(reply),
            )
        return web.json_response(answer)

    return [web.get(BUDGET_CHECK_PATH, handle)]


def check_key(
    engine: Engine, key: IngestKey, agent: str = "", model: str = "", now: datetime | None = None
) -> dict[str, Any]:
    """The check's JSON answer for a key (blocking: run it off the event loop)."""
    now = now or datetime.now(UTC)
    scope = CallScope(key.org_id, key.workspace_id, key.user_id or 0, key.key_id, agent, model)
    with engine.connect() as conn:
        result = check_call(conn, scope, now)
        zone = org_by_id(conn, key.org_id).timezone
        names = _names(conn, result.states)
    states = sorted(result.states, key=lambda s: (s.budget.mode != "hard", s.remaining_nanousd))
    budgets = [_budget_json(s, names) for s in states]
    blocking = [s for s in states if s.budget.mode == "hard" and s.exceeded]
    return {
        "allow": not blocking,
        "message": block_message(blocking[0], names, zone, now) if blocking else "",
        "checked_at": now.isoformat(),
        "budgets": budgets,
    }


def block_message(
    state: BudgetState, names: dict[tuple[str, int], str], zone: str, now: datetime
) -> str:
    """The sentence a blocked user reads: which budget, spent, limit, reset, how to get more."""
    b = state.budget
    who = names.get((b.scope, state.subject_id), str(state.subject_id))
    filters = "".join(f" ({k} {v})" for k, v in (("agent", b.agent), ("model", b.model)) if v)
    local = state.resets_at.astimezone(ZoneInfo(zone))
    return (
        f"otelspend: the hard {adjective(b.window)} budget of {b.scope} {who}{filters} is used "
        f"up: spent ${usd(state.spent_nanousd)} of ${usd(state.limit_nanousd)}. It resets "
        f"{local:%Y-%m-%d %H:%M} {zone} (in {_duration(state.resets_at - now)}). "
        f"To ask for more: otelspend requests create --budget {b.id} --amount <USD> "
        f'--until <date> --reason "..."'
    )


def usd(nanousd: int) -> str:
    """Integer nano-USD as a dollar string rounded to the micro-dollar (as `spend` shows it)."""
    return str((Decimal(nanousd) / _NANO_PER_USD).quantize(_MICRO, rounding=ROUND_HALF_EVEN))


def _budget_json(s: BudgetState, names: dict[tuple[str, int], str]) -> dict[str, Any]:
    b = s.budget
    return {
        "id": b.id,
        "scope": b.scope,
        "subject": names.get((b.scope, s.subject_id), str(s.subject_id)),
        "default": b.is_default,
        "agent": b.agent,
        "model": b.model,
        "window": b.window,
        "mode": b.mode,
        "limit_usd": usd(s.limit_nanousd),
        "spent_usd": usd(s.spent_nanousd),
        "remaining_usd": usd(s.remaining_nanousd),
        "exceeded": s.exceeded,
        "resets_at": s.resets_at.isoformat(),
    }


def _names(conn: Any, states: tuple[BudgetState, ...]) -> dict[tuple[str, int], str]:
    wanted: dict[str, set[int]] = {}
    for s in states:
        wanted.setdefault(s.budget.scope, set()).add(s.subject_id)
    out: dict[tuple[str, int], str] = {}
    for scope, ids in wanted.items():
        out.update(((scope, i), name) for i, name in subject_names(conn, scope, ids).items())
    return out


def _duration(delta: Any) -> str:
    """'3h 12m', '45m', '2d 4h' (rounded down to the minute)."""
    minutes = max(int(delta.total_seconds()) // 60, 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"
