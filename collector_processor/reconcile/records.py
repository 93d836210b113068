"""Records of provider-reported spend, and the page/amount/time readers every format shares.

Buckets are UTC, as both providers' reports are.  Amounts are parsed as Decimal and turned
into integer nano-USD once, half-even; a float never touches money.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

NANO_PER_USD = Decimal(1_000_000_000)
NS_PER_DAY = 86_400 * 1_000_000_000
TOKEN_CLASSES = ("input", "cache_read", "cache_write", "output")
KIND_COST, KIND_USAGE, KIND_CSV = "cost", "usage", "csv"
_MAX_AMOUNT_DIGITS = 12


class ExportError(ValueError):
    """The file is not a readable export of the announced format; the message says why."""


@dataclass(frozen=True, slots=True)
class BilledLine:
    """One line of a provider report: cost and/or tokens of a UTC bucket.

    Token counts are None when the report does not carry them; `input_tokens` is uncached
    input (the same classes as semconv.records.LlmCall).
    """

    provider: str
    bucket_start_ns: int
    bucket_end_ns: int
    external_workspace: str = ""
    external_api_key: str = ""
    model: str = ""
    description: str = ""
    token_class: str = ""
    cost_nanousd: int | None = None
    input_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    output_tokens: int | None = None
    requests: int | None = None


@dataclass(slots=True)
class ParsedExport:
    """What a file held: lines, the (provider, start, end) buckets it covers, and warnings.

    Covered buckets include empty ones: a day the provider reports as empty replaces a
    previous import of that day too.
    """

    kind: str
    lines: list[BilledLine] = field(default_factory=list)
    covered: set[tuple[str, int, int]] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def load_pages(text: str) -> list[dict[str, Any]]:
    """Read one page object, a JSON list of pages, or JSON lines of pages (numbers → Decimal)."""
    try:
        doc = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError:
        doc = list(_json_lines(text))
    pages = doc if isinstance(doc, list) else [doc]
    if pages and all(isinstance(p, dict) and ("results" in p or "result" in p) for p in pages):
        pages = [{"data": pages}]  # the bare `data` array of one page, saved on its own
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, page in enumerate(pages, start=1):
        if not isinstance(page, dict) or not isinstance(page.get("data"), list):
            raise ExportError(f"page {number} has no `data` list: not a usage or cost report")
        fingerprint = json.dumps(page, sort_keys=True, default=str)
        if fingerprint not in seen:  # the same page saved twice is read once
            seen.add(fingerprint)
            out.append(page)
    if not out:
        raise ExportError("the file holds no pages")
    return out


def _json_lines(text: str) -> Iterator[Any]:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise ExportError(f"line {number} is not JSON: {exc.msg}") from None


def incomplete_warning(pages: list[dict[str, Any]]) -> list[str]:
    """Warn when the last page says more pages follow (an export cut short)."""
    last = pages[-1]
    if last.get("has_more") is True:
        return [
            f"the last page says has_more=true (next_page={last.get('next_page')!r}): "
            "the export looks incomplete; fetch the remaining pages and import again"
        ]
    return []


def buckets(
    pages: list[dict[str, Any]], keys: tuple[str, str], parse_time: Callable[[Any, str], int]
) -> list[tuple[int, int, list[dict[str, Any]]]]:
    """(start_ns, end_ns, results) of every bucket of every page; `keys` name its bounds."""
    out = []
    for page in pages:
        for bucket in page["data"]:
            if not isinstance(bucket, dict):
                raise ExportError("each entry of `data` must be a time bucket object")
            start = parse_time(bucket.get(keys[0]), keys[0])
            end = parse_time(bucket.get(keys[1]), keys[1])
            out.append((start, end, results(bucket)))
    return out


def results(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    """A bucket's results (`results`; some generated clients say `result`)."""
    items = bucket.get("results", bucket.get("result", []))
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ExportError("a bucket's results must be a list of objects")
    return items


def rfc3339_ns(value: Any, what: str) -> int:
    """Nanoseconds of an RFC 3339 timestamp with an offset (Anthropic buckets)."""
    if not isinstance(value, str):
        raise ExportError(f"{what} must be an RFC 3339 string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ExportError(f"{what} {value!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # provider buckets are UTC
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def unix_ns(value: Any, what: str) -> int:
    """Nanoseconds of a Unix-seconds timestamp (OpenAI buckets)."""
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ExportError(f"{what} must be Unix seconds, got {value!r}")
    try:
        return int(Decimal(str(value))) * 1_000_000_000
    except InvalidOperation:
        raise ExportError(f"{what} must be Unix seconds, got {value!r}") from None


def usd_to_nano(value: Any, what: str, *, divisor: int = 1) -> int:
    """Integer nano-USD of a decimal amount (`divisor` 100 for amounts in cents)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ExportError(f"{what} must be a decimal amount, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ExportError(f"{what} {value!r} is not a decimal amount") from None
    # adjusted() reads the exponent without arithmetic, which could overflow on "1e999999999".
    if not amount.is_finite() or amount.adjusted() >= _MAX_AMOUNT_DIGITS:
        raise ExportError(f"{what} {value!r} is not a plausible amount")
    nano = int((amount * NANO_PER_USD / divisor).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    if abs(nano) >= 2**63:  # the store's BIGINT
        raise ExportError(f"{what} {value!r} is not a plausible amount")
    return nano


def count(value: Any, what: str) -> int:
    """A non-negative token or request count (None/absent → 0)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ExportError(f"{what} must be an integer, got {value!r}")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ExportError(f"{what} must be an integer, got {value!r}") from None
    if number != number.to_integral_value() or number < 0:
        raise ExportError(f"{what} must be a non-negative integer, got {value!r}")
    return int(number)


def text(value: Any) -> str:
    """A nullable string field as "" / str."""
    return "" if value is None else str(value)


def require_usd(currency: Any) -> None:
    """Only USD amounts can be reconciled (otelspend prices in USD)."""
    if currency is not None and str(currency).strip().lower() not in ("usd", ""):
        raise ExportError(f"currency {currency!r} is not USD; only USD reports are supported")


def cover(parsed: ParsedExport, provider: str, bounds: Iterable[tuple[int, int]]) -> None:
    """Record buckets as covered by the export."""
    for start, end in bounds:
        if end <= start:
            raise ExportError("a bucket ends before it starts")
        parsed.covered.add((provider, start, end))
