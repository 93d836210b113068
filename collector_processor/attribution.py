"""Attribution: who pays for a call is decided by the credential, not by what a span claims."""

from __future__ import annotations

from collector_processor.consumer import IngestKey
from semconv.records import LlmCall

# Which user hint names a person best when a trusted sender forwards several.
_HINT_PREFERENCE = ("user.email", "user.id", "enduser.id", "user.account_uuid")


def attributed_user(call: LlmCall, key: IngestKey) -> tuple[int | None, str]:
    """Return (user_id, user_name) for a call; (None, "") means the unattributed bucket.

    A normal key fixes the user.  Only a trusted shared sender (gateway, company collector,
    `serve --no-auth`) lets the telemetry's user attributes decide; without any, the call
    lands in the visible "unattributed" bucket instead of being dropped.
    """
    if not key.trusted:
        return key.user_id, ""
    hints = dict(call.user_hints)
    for name in _HINT_PREFERENCE:
        value = hints.get(name, "").strip()
        if value:
            return None, value
    return key.user_id, ""


def agent_of(call: LlmCall) -> str:
    """Agent = gen_ai.agent.name (or the dialect's name), else service.name."""
    return call.agent_name or call.service_name or "unknown"
