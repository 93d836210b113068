"""The export formats `otelspend reconcile import --format` accepts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from collector_processor.reconcile import anthropic, csv_format, openai
from collector_processor.reconcile.records import KIND_USAGE, BilledLine, ParsedExport

_PARSERS: dict[str, Callable[[str], ParsedExport]] = {
    "anthropic-cost": anthropic.parse_cost_report,
    "anthropic-usage": anthropic.parse_usage_report,
    "openai-costs": openai.parse_costs,
    "openai-usage": openai.parse_usage,
}
FORMATS = (*_PARSERS, "csv")
EMPTY_BUCKET = "(none reported)"


def parse_export(fmt: str, content: str, provider: str = "") -> ParsedExport:
    """Parse an export; `provider` fills the CSV's provider column when it has none."""
    if fmt == "csv":
        return csv_format.parse_csv(content, provider)
    if fmt not in _PARSERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return with_empty_buckets(_PARSERS[fmt](content))


def with_empty_buckets(parsed: ParsedExport) -> ParsedExport:
    """Give each bucket the provider reported empty a zero line: "billed $0", not "unknown"."""
    filled = {(ln.provider, ln.bucket_start_ns, ln.bucket_end_ns) for ln in parsed.lines}
    for provider, start, end in sorted(parsed.covered - filled):
        line = BilledLine(provider, start, end, description=EMPTY_BUCKET)
        if parsed.kind == KIND_USAGE:
            line = replace(
                line, input_tokens=0, cache_read_tokens=0, cache_write_tokens=0, output_tokens=0
            )
        else:
            line = replace(line, cost_nanousd=0)
        parsed.lines.append(line)
    return parsed
