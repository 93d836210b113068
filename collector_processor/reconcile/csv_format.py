"""Generic CSV of provider-reported spend: one row per UTC day, provider, model and workspace.

Columns (header names are case-insensitive; aliases in parentheses):
  date (day)              required: YYYY-MM-DD (UTC day), or a timestamp whose UTC date is used
  provider                required unless `otelspend reconcile import --provider` gives it
  cost (cost_usd, amount) required: US dollars, e.g. 12.50, $1,234.56
  model, workspace (project, workspace_id, project_id), api_key (api_key_id), description,
  currency (must be USD), requests, and token columns: input_tokens (uncached input;
  alias uncached_input_tokens), cache_read_tokens, cache_write_tokens, output_tokens.
A row without any token column value carries no token counts (not zeros).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from collector_processor.reconcile.records import (
    KIND_CSV,
    NS_PER_DAY,
    BilledLine,
    ExportError,
    ParsedExport,
    count,
    cover,
    require_usd,
    usd_to_nano,
)

_ALIASES = {
    "date": ("date", "day"),
    "provider": ("provider",),
    "cost": ("cost", "cost_usd", "amount"),
    "model": ("model",),
    "workspace": ("workspace", "project", "workspace_id", "project_id"),
    "api_key": ("api_key", "api_key_id"),
    "description": ("description", "line_item"),
    "currency": ("currency",),
    "requests": ("requests", "num_model_requests"),
    "input_tokens": ("input_tokens", "uncached_input_tokens"),
    "cache_read_tokens": ("cache_read_tokens",),
    "cache_write_tokens": ("cache_write_tokens",),
    "output_tokens": ("output_tokens",),
}
_TOKEN_FIELDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")


def parse_csv(content: str, default_provider: str = "") -> ParsedExport:
    """Read the generic CSV; every (provider, day) it names counts as covered."""
    reader = csv.DictReader(io.StringIO(content.lstrip("\ufeff")))
    columns = _columns(reader.fieldnames or [])
    if "provider" not in columns and not default_provider:
        raise ExportError("CSV has no provider column: add one or pass --provider")
    parsed = ParsedExport(KIND_CSV)
    for number, raw in enumerate(reader, start=2):
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue  # blank line
        row = {field: (raw.get(col) or "").strip() for field, col in columns.items()}
        try:
            line = _line(row, default_provider)
        except ExportError as exc:
            raise ExportError(f"CSV line {number}: {exc}") from None
        cover(parsed, line.provider, [(line.bucket_start_ns, line.bucket_end_ns)])
        parsed.lines.append(line)
    if not parsed.lines:
        raise ExportError("the CSV holds no rows")
    return parsed


def _columns(header: Sequence[str]) -> dict[str, str]:
    """Map each known field to the header column naming it."""
    lowered = {h.strip().lower(): h for h in header if h}
    found = {}
    for field, names in _ALIASES.items():
        for name in names:
            if name in lowered:
                found[field] = lowered[name]
                break
    missing = [f for f in ("date", "cost") if f not in found]
    if missing:
        raise ExportError(f"CSV header lacks {', '.join(missing)} (found: {', '.join(header)})")
    return found


def _line(row: dict[str, str], default_provider: str) -> BilledLine:
    provider = (row.get("provider") or default_provider).strip().lower()
    if not provider:
        raise ExportError("provider is empty")
    require_usd(row.get("currency") or None)
    start = _day_ns(row["date"])
    has_tokens = any(row.get(f) for f in _TOKEN_FIELDS)
    tokens: dict[str, Any] = {
        f: count(row.get(f) or None, f) if has_tokens else None for f in _TOKEN_FIELDS
    }
    return BilledLine(
        provider,
        start,
        start + NS_PER_DAY,
        external_workspace=row.get("workspace", ""),
        external_api_key=row.get("api_key", ""),
        model=row.get("model", ""),
        description=row.get("description", ""),
        cost_nanousd=usd_to_nano(_amount(row["cost"]), "cost"),
        requests=count(row["requests"], "requests") if row.get("requests") else None,
        **tokens,
    )


def _amount(value: str) -> str:
    cleaned = value.replace("$", "").replace(",", "").strip()
    if not cleaned:
        raise ExportError("cost is empty")
    return cleaned


def _day_ns(value: str) -> int:
    """Start of the UTC day a date (or a timestamp's UTC date) names."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            day = moment.astimezone(UTC).date()
    except ValueError:
        raise ExportError(f"date {value!r} is not YYYY-MM-DD") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000_000
