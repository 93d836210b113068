"""Token usage read from attributes whose input count INCLUDES cached tokens.

INPUT-TOKEN INCLUSIVITY: this reader applies the inclusive rule (GenAI semconv, OpenAI,
OpenInference, Codex): uncached input = input - cache_read - cache_write.  If the cache
counts exceed the input, the input is taken as already uncached (see
common.split_inclusive_input) and the call's extra says so.  Reasoning is part of output; a
reasoning count larger than the output shows the sender excluded it, so the two are added.
Likewise the 1-hour cache writes are part of the cache writes; a 1-hour count above the write
count shows the sender left it out of that total, so the two are added.

A model call whose record reports no token counts at all is built from NO_USAGE: zero tokens
and extra["usage"] = "missing", which pricing reads as "cost unknown", never as $0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from semconv.dialects.common import split_inclusive_input, tokens

# extra["input_rule"] when the inclusive reading was impossible.
INPUT_RULE_KEY = "input_rule"
EXCLUSIVE_INFERRED = "exclusive_inferred"
OUTPUT_RULE_KEY = "output_rule"
REASONING_ADDED = "reasoning_added"
# extra["usage"] when the record reported no token counts (see usage_missing).
USAGE_KEY = "usage"
USAGE_MISSING = "missing"


@dataclass(frozen=True, slots=True)
class UsageNames:
    """Attribute names (first present wins) for each token class of one dialect."""

    input: tuple[str, ...]
    output: tuple[str, ...]
    cache_read: tuple[str, ...] = ()
    cache_write: tuple[str, ...] = ()
    reasoning: tuple[str, ...] = ()
    cache_write_1h: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """Canonical token classes of one call plus the counts exactly as reported."""

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    reported_input: int = 0
    reported_output: int = 0
    inferred_exclusive: bool = False
    reasoning_added: bool = False
    missing: bool = False  # no token count was reported at all

    def extra(self) -> dict[str, Any]:
        """Return the notes a reviewer needs when a count was not taken at face value."""
        notes: dict[str, Any] = {}
        if self.inferred_exclusive:
            notes[INPUT_RULE_KEY] = EXCLUSIVE_INFERRED
        if self.reasoning_added:
            notes[OUTPUT_RULE_KEY] = REASONING_ADDED
        if self.missing:
            notes[USAGE_KEY] = USAGE_MISSING
        return notes


NO_USAGE = Usage(missing=True)


def usage_missing(extra: Mapping[str, Any]) -> bool:
    """Whether a call's extra says its record reported no token counts (its cost is unknown)."""
    return extra.get(USAGE_KEY) == USAGE_MISSING


def read_inclusive_usage(attrs: Mapping[str, Any], names: UsageNames) -> Usage | None:
    """Return the usage under the inclusive rule, None when no input/output count is present.

    Raises InvalidCall for a negative, absurd or non-integer count.
    """
    raw_input = tokens(attrs, *names.input)
    raw_output = tokens(attrs, *names.output)
    cache_read = tokens(attrs, *names.cache_read) or 0
    cache_write = tokens(attrs, *names.cache_write) or 0
    cache_write_1h = tokens(attrs, *names.cache_write_1h) or 0
    reasoning = tokens(attrs, *names.reasoning) or 0
    if raw_input is None and raw_output is None:
        return None
    if cache_write_1h > cache_write:
        cache_write += cache_write_1h
    reported_input = raw_input or 0
    reported_output = raw_output or 0
    uncached, exclusive = split_inclusive_input(reported_input, cache_read, cache_write)
    output = reported_output
    added = reasoning > output
    if added:
        output += reasoning
    return Usage(
        input_tokens=uncached,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        cache_write_1h_tokens=cache_write_1h,
        output_tokens=output,
        reasoning_tokens=reasoning,
        reported_input=reported_input,
        reported_output=reported_output,
        inferred_exclusive=exclusive,
        reasoning_added=added,
    )
