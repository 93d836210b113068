"""Helpers every dialect shares: token coercion and limits, stable ids, identity, money, time."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from semconv import names as n
from semconv.records import STATUS_ERROR, STATUS_UNSET

# No single model call (or one metric export interval) plausibly uses this many tokens; a
# larger count is a client bug and would otherwise become a five-figure line item.
MAX_TOKENS_PER_CALL = 100_000_000
NS_PER_MS = 1_000_000
_HASH_BYTES = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


class InvalidCall(ValueError):
    """A record that claims to be a model call but cannot be billed; str() is the reason."""


def coerce_tokens(name: str, value: Any) -> int:
    """Return `value` as a token count or raise InvalidCall naming the attribute."""
    if type(value) is int:  # bool is an int subclass and is never a count
        count = value
    elif isinstance(value, float) and value.is_integer():  # metric points carry doubles
        count = int(value)
    elif isinstance(value, str):  # Codex sends some counts as decimal strings
        try:
            count = int(value.strip())
        except ValueError:
            raise InvalidCall(f"{name} is {value!r}: token counts must be integers") from None
    else:
        raise InvalidCall(f"{name} is {value!r}: token counts must be integers")
    if count < 0:
        raise InvalidCall(f"{name} is {count}: token counts cannot be negative")
    if count > MAX_TOKENS_PER_CALL:
        raise InvalidCall(
            f"{name} is {count}: above the limit of {MAX_TOKENS_PER_CALL:,} tokens per call"
        )
    return count


def tokens(attrs: Mapping[str, Any], *names: str) -> int | None:
    """Return the first present attribute of `names` as a token count, None when none is."""
    for name in names:
        value = attrs.get(name)
        if value is not None:
            return coerce_tokens(name, value)
    return None


def split_inclusive_input(total: int, cache_read: int, cache_write: int) -> tuple[int, bool]:
    """Return (uncached input, inferred_exclusive) for an input count that should include cache.

    When the cache counts exceed the input the inclusive reading would be negative, so the
    input is taken as already excluding cache (raw Anthropic usage) rather than clamped:
    clamping would silently drop billable tokens.
    """
    cached = cache_read + cache_write
    if cached > total:
        return total, True
    return total - cached, False


def stable_id(prefix: str, *parts: object) -> str:
    """Return a deterministic id for `parts` (str/int only), so a resend maps to the same id."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=_HASH_BYTES).hexdigest()
    return f"{prefix}:{digest}"


def text(attrs: Mapping[str, Any], *names: str) -> str:
    """Return the first non-empty attribute of `names` as a string ("" when none)."""
    for name in names:
        value = attrs.get(name)
        if value is not None and value != "":
            return value if isinstance(value, str) else str(value)
    return ""


def ended_in_error(attrs: Mapping[str, Any], status_code: int = STATUS_UNSET) -> bool:
    """Whether a record says its operation failed: span status ERROR, or error.type set."""
    return status_code == STATUS_ERROR or bool(text(attrs, n.ERROR_TYPE))


def agent_name(attrs: Mapping[str, Any], resource: Mapping[str, Any], default: str = "") -> str:
    """Return gen_ai.agent.name, else the dialect's canonical agent, else the service name."""
    return text(attrs, n.GEN_AI_AGENT_NAME) or default or service_name(resource)


def session_id(attrs: Mapping[str, Any]) -> str:
    """Return the conversation/session id the record names ("" when none)."""
    return text(attrs, n.GEN_AI_CONVERSATION_ID, n.SESSION_ID, n.CONVERSATION_ID)


def service_name(resource: Mapping[str, Any]) -> str:
    """Return the resource's service.name ("" when absent or not a string)."""
    value = resource.get(n.SERVICE_NAME)
    return value if isinstance(value, str) else ""


def user_hints(
    attrs: Mapping[str, Any], resource: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    """Return identity hints from the record, then the resource, in precedence order."""
    hints = []
    for name in n.USER_HINT_ATTRIBUTES:
        value = attrs.get(name)
        if value is None or value == "":
            value = resource.get(name)
        if value is not None and value != "":
            hints.append((name, str(value)))
    return tuple(hints)


def usd(value: Any) -> Decimal | None:
    """Return a client-reported USD amount as Decimal (None when absent or unusable)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        # str() is the shortest round-tripping form, so 0.021 stays 0.021, not its binary noise.
        return Decimal(str(value)) if math.isfinite(value) else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            return None
        return amount if amount.is_finite() else None
    return None


def micro_usd(value: Any) -> Decimal | None:
    """Return an integer micro-USD amount as Decimal USD (None when absent or unusable)."""
    if type(value) is not int:
        return None
    return Decimal(value) / Decimal(1_000_000)


def duration_ns(value: Any) -> int | None:
    """Return a duration in milliseconds (number or numeric string) as nanoseconds."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        millis = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(millis) or millis < 0:
        return None
    return int(millis * NS_PER_MS)


def iso_to_ns(value: Any) -> int:
    """Return an ISO-8601 timestamp such as '2026-11-22T23:48:52.802Z' in ns (0 if unusable)."""
    if not isinstance(value, str) or not value:
        return 0
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        return 0  # a naive time has no defined instant; better none than a wrong one
    return (moment - _EPOCH) // _ONE_US * 1_000  # integer arithmetic: no float rounding
