"""OpenAI organization exports: GET /v1/organization/costs and /v1/organization/usage/*.

Both are pages of `{object: "page", data: [{object: "bucket", start_time, end_time,
results: [...]}], has_more, next_page}` with Unix-second UTC buckets.  Cost amounts are
`{value, currency: "usd"}` in dollars.  Usage `input_tokens` INCLUDES `input_cached_tokens`
(OpenAI's inclusive rule), so uncached input = input_tokens - input_cached_tokens.
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
    text,
    unix_ns,
    usd_to_nano,
)

_BUCKET_KEYS = ("start_time", "end_time")
PROVIDER = "openai"
COSTS_OBJECT = "organization.costs.result"
_USAGE_OBJECT_PREFIX = "organization.usage."
# Line-item suffixes ("gpt-4o-2024-08-06, cached input") → canonical token class.
_LINE_ITEM_CLASSES = (
    ("cached input", "cache_read"),
    ("input", "input"),
    ("output", "output"),
)


def parse_costs(content: str) -> ParsedExport:
    """Read an organization costs export (one page, a list of pages, or JSON lines)."""
    pages = load_pages(content)
    parsed = ParsedExport(KIND_COST, warnings=incomplete_warning(pages))
    for start, end, items in buckets(pages, _BUCKET_KEYS, unix_ns):
        cover(parsed, PROVIDER, [(start, end)])
        for item in items:
            kind = text(item.get("object"))
            if kind.startswith(_USAGE_OBJECT_PREFIX) or "amount" not in item:
                raise ExportError(
                    f"a costs result has no amount (object {kind or '?'!r}); "
                    "a usage export needs --format openai-usage"
                )
            amount = item["amount"]
            if not isinstance(amount, dict):
                raise ExportError("amount must be an object {value, currency}")
            require_usd(amount.get("currency"))
            line_item = text(item.get("line_item"))
            model, token_class = split_line_item(line_item)
            parsed.lines.append(
                BilledLine(
                    PROVIDER,
                    start,
                    end,
                    external_workspace=text(item.get("project_id")),
                    external_api_key=text(item.get("api_key_id")),
                    model=model,
                    description=line_item,
                    token_class=token_class,
                    cost_nanousd=usd_to_nano(amount.get("value"), "amount.value"),
                )
            )
    return parsed


def parse_usage(content: str) -> ParsedExport:
    """Read an organization usage export (completions; embeddings count input tokens only)."""
    pages = load_pages(content)
    parsed = ParsedExport(KIND_USAGE, warnings=incomplete_warning(pages))
    for start, end, items in buckets(pages, _BUCKET_KEYS, unix_ns):
        cover(parsed, PROVIDER, [(start, end)])
        for item in items:
            if item.get("object") == COSTS_OBJECT or "amount" in item:
                raise ExportError("this is a costs export: use --format openai-costs")
            parsed.lines.append(_usage_line(item, start, end))
    return parsed


def _usage_line(item: dict[str, Any], start: int, end: int) -> BilledLine:
    total_input = count(item.get("input_tokens"), "input_tokens")
    cached = count(item.get("input_cached_tokens"), "input_cached_tokens")
    if cached > total_input:
        raise ExportError(f"input_cached_tokens {cached} exceeds input_tokens {total_input}")
    extras = ["batch" if item.get("batch") is True else "", text(item.get("service_tier"))]
    return BilledLine(
        PROVIDER,
        start,
        end,
        external_workspace=text(item.get("project_id")),
        external_api_key=text(item.get("api_key_id")),
        model=text(item.get("model")),
        description=" ".join(e for e in extras if e),
        input_tokens=total_input - cached,
        cache_read_tokens=cached,
        cache_write_tokens=0,
        output_tokens=count(item.get("output_tokens"), "output_tokens"),
        requests=count(item.get("num_model_requests"), "num_model_requests"),
    )


def split_line_item(line_item: str) -> tuple[str, str]:
    """("gpt-4o-2024-08-06, input") → ("gpt-4o-2024-08-06", "input"); others → ("", "")."""
    model, sep, suffix = line_item.rpartition(",")
    suffix = suffix.strip().lower()
    if sep and model.strip():
        for ending, token_class in _LINE_ITEM_CLASSES:
            if suffix == ending or suffix.endswith(" " + ending):
                return model.strip(), token_class
        return model.strip(), ""
    return "", ""
