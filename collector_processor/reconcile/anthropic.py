"""Anthropic Admin API exports: GET /v1/organizations/cost_report and usage_report/messages.

Both are pages of `{data: [{starting_at, ending_at, results: [...]}], has_more, next_page}`
with RFC 3339 UTC buckets.  Cost amounts are decimal strings in the currency's lowest unit
(cents: "123.45" is $1.23).  A null workspace_id is the Default Workspace (or a report not
grouped by workspace); it is stored as "".
"""

from __future__ import annotations

from typing import Any

from collector_processor.reconcile.records import (
    KIND_COST,
    KIND_USAGE,
    BilledLine,
    ExportError,
    ParsedExport,
    buckets,
    count,
    cover,
    incomplete_warning,
    load_pages,
    require_usd,
    rfc3339_ns,
    text,
    usd_to_nano,
)

_BUCKET_KEYS = ("starting_at", "ending_at")
PROVIDER = "anthropic"
_CENTS_PER_USD = 100
# cost_report token_type → canonical token class.
_TOKEN_TYPES = {
    "uncached_input_tokens": "input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write",
}
_USAGE_MARKERS = ("uncached_input_tokens", "output_tokens", "cache_read_input_tokens")


def parse_cost_report(content: str) -> ParsedExport:
    """Read a cost report export (one page, a list of pages, or JSON lines of pages)."""
    pages = load_pages(content)
    parsed = ParsedExport(KIND_COST, warnings=incomplete_warning(pages))
    for start, end, items in buckets(pages, _BUCKET_KEYS, rfc3339_ns):
        cover(parsed, PROVIDER, [(start, end)])
        for item in items:
            if "amount" not in item:
                hint = " (this looks like a usage report: --format anthropic-usage)"
                raise ExportError("a cost result has no amount" + (hint if _is_usage(item) else ""))
            require_usd(item.get("currency"))
            parsed.lines.append(
                BilledLine(
                    PROVIDER,
                    start,
                    end,
                    external_workspace=text(item.get("workspace_id")),
                    model=text(item.get("model")),
                    description=_description(item),
                    token_class=_TOKEN_TYPES.get(text(item.get("token_type")), ""),
                    cost_nanousd=usd_to_nano(item["amount"], "amount", divisor=_CENTS_PER_USD),
                )
            )
    return parsed


def parse_usage_report(content: str) -> ParsedExport:
    """Read a messages usage report export (uncached input, cache reads/writes, output)."""
    pages = load_pages(content)
    parsed = ParsedExport(KIND_USAGE, warnings=incomplete_warning(pages))
    for start, end, items in buckets(pages, _BUCKET_KEYS, rfc3339_ns):
        cover(parsed, PROVIDER, [(start, end)])
        for item in items:
            if not _is_usage(item):
                hint = " (a cost report: use --format anthropic-cost)" if "amount" in item else ""
                raise ExportError("a usage result has no token counts" + hint)
            parsed.lines.append(_usage_line(item, start, end))
    return parsed


def _usage_line(item: dict[str, Any], start: int, end: int) -> BilledLine:
    creation = item.get("cache_creation")
    if isinstance(creation, dict):
        cache_write = count(creation.get("ephemeral_5m_input_tokens"), "ephemeral_5m") + count(
            creation.get("ephemeral_1h_input_tokens"), "ephemeral_1h"
        )
    else:  # older exports: one total
        cache_write = count(item.get("cache_creation_input_tokens"), "cache_creation_input_tokens")
    tier = [text(item.get(k)) for k in ("service_tier", "context_window") if item.get(k)]
    return BilledLine(
        PROVIDER,
        start,
        end,
        external_workspace=text(item.get("workspace_id")),
        external_api_key=text(item.get("api_key_id")),
        model=text(item.get("model")),
        description=" ".join(tier),
        input_tokens=count(item.get("uncached_input_tokens"), "uncached_input_tokens"),
        cache_read_tokens=count(item.get("cache_read_input_tokens"), "cache_read_input_tokens"),
        cache_write_tokens=cache_write,
        output_tokens=count(item.get("output_tokens"), "output_tokens"),
    )


def _is_usage(item: dict[str, Any]) -> bool:
    return any(k in item for k in _USAGE_MARKERS) and "amount" not in item


def _description(item: dict[str, Any]) -> str:
    """The line's description, else its cost type / token type / tier / context window."""
    described = text(item.get("description"))
    parts = ("cost_type", "token_type", "service_tier", "context_window")
    return described or " ".join(text(item.get(k)) for k in parts if item.get(k))
