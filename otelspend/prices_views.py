"""Text and JSON renderings of prices for the `otelspend prices` commands.

Rates are USD per million tokens, shown exactly as stored (decimal strings); money totals are
integer nano-USD, rounded once here through otelspend.money.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from collector_processor.pricing.book import BEGINNING, PriceOverride
from collector_processor.pricing.catalog import ModelRates
from collector_processor.pricing.diff import CatalogDiff, RateChange
from collector_processor.pricing.listing import rate_signature
from otelspend.money import usd_str
from store.price_overrides import OverrideInfo
from store.price_reports import ModelAccuracy
from store.reprice import RepriceReport

RATE_NAMES = ("input", "cache read", "cache write", "cache write 1h", "output", "reasoning")
RATE_KEYS = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning")
LIST_HEADER = (
    f"{'provider':<12} {'model':<44} {'input':>8} {'cache_rd':>8} {'cache_wr':>8} "
    f"{'cache_1h':>8} {'output':>8} {'reason':>8} {'long ctx':<10} source"
)


def rate(value: Decimal | None) -> str:
    """A rate as a plain decimal string ("-" when the class has no rate of its own)."""
    return "-" if value is None else format(value.normalize(), "f")


def when(moment: datetime) -> str:
    """A date people read: "from the start" for the first version, else ISO UTC."""
    if moment <= BEGINNING:
        return "the start"
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def rates_json(r: ModelRates) -> dict[str, Any]:
    """Rates (strings, exact) and long-context tiers of a rate set."""
    out: dict[str, Any] = {
        k: None if v is None else rate(v) for k, v in zip(RATE_KEYS, r.all_rates(), strict=True)
    }
    out["long_context"] = [
        {"above_input_tokens": t.threshold_tokens, **rates_json(t.rates)} for t in r.long_context
    ]
    return out


def tiers_text(r: ModelRates) -> str:
    """Long-context thresholds, e.g. ">200k"."""
    return ",".join(f">{t.threshold_tokens // 1000}k" for t in r.long_context) or "-"


def tiers_detail(r: ModelRates) -> str:
    """Long-context tiers with their input and output rates, e.g. ">200k (6/22.5)"."""
    tiers = [
        f">{t.threshold_tokens // 1000}k ({rate(t.rates.input_usd_per_mtok)}/"
        f"{rate(t.rates.output_usd_per_mtok)})"
        for t in r.long_context
    ]
    return ",".join(tiers) or "none"


def list_line(provider: str, model: str, r: ModelRates, source: str) -> str:
    """One row of `prices list`."""
    cells = " ".join(f"{rate(v):>8}" for v in r.all_rates())
    return f"{provider[:12]:<12} {model[:44]:<44} {cells} {tiers_text(r):<10} {source}"


def rates_inline(r: ModelRates) -> str:
    """The rates a set has, on one line: "input 3, cache read 0.3, output 15"."""
    pairs = zip(RATE_NAMES, r.all_rates(), strict=True)
    return ", ".join(f"{name} {rate(v)}" for name, v in pairs if v is not None)


def rates_block(r: ModelRates, indent: str = "  ") -> list[str]:
    """The rates of one model, one class per line."""
    fallbacks = ("", "= input", "= input", "= cache write", "", "= output")
    lines = [
        f"{indent}{name:<16}{rate(v) if v is not None else fallback}"
        for name, v, fallback in zip(RATE_NAMES, r.all_rates(), fallbacks, strict=True)
    ]
    for t in r.long_context:
        head = f"{indent}above {t.threshold_tokens:,} input tokens (all of the request)"
        lines.append(f"{head}: {rates_inline(t.rates)}")
    return lines


def change_text(c: RateChange) -> str:
    """One line of an import diff."""
    head = f"{c.provider_id}/{c.model_id}"
    if c.old is None:
        tail = f" {tiers_text(c.new)}" if c.new.long_context else ""
        return f"  + {head:<50} from {when(c.effective)}: {rates_inline(c.new)}{tail}"
    moved = [
        f"{n} {rate(a)} -> {rate(b)}"
        for n, a, b in zip(RATE_NAMES, c.old.all_rates(), c.new.all_rates(), strict=True)
        if a != b
    ]
    if rate_signature(c.old)[1] != rate_signature(c.new)[1]:
        moved.append(f"long context {tiers_detail(c.old)} -> {tiers_detail(c.new)}")
    return (
        f"  ~ {head:<50} from {when(c.effective)}: " + ", ".join(moved) + f"  (was {c.old_source})"
    )


def diff_lines(diff: CatalogDiff) -> list[str]:
    """An import diff for people: added, then changed, then what stays."""
    lines = [change_text(c) for c in diff.added] + [change_text(c) for c in diff.changed]
    lines.append(
        f"{len(diff.added)} added, {len(diff.changed)} changed, {diff.unchanged} unchanged "
        f"of {diff.models} models in the file; models it does not list keep their current prices."
    )
    return lines


def diff_json(diff: CatalogDiff) -> dict[str, Any]:
    """An import diff as data."""
    return {
        "models": diff.models,
        "unchanged": diff.unchanged,
        "changes": [
            {
                "kind": c.kind,
                "provider": c.provider_id,
                "model": c.model_id,
                "effective_from": c.effective.isoformat(),
                "old": None if c.old is None else rates_json(c.old),
                "new": rates_json(c.new),
                "old_source": c.old_source,
            }
            for c in diff.changes
        ],
    }


def override_terms(o: OverrideInfo | PriceOverride) -> str:
    """What an override does: "15% off the catalog" or the rates it sets."""
    if o.discount_pct is not None:
        return f"{rate(Decimal(o.discount_pct))}% off the catalog"
    if isinstance(o, PriceOverride):
        assert o.rates is not None
        values = dict(zip(RATE_KEYS, o.rates.all_rates(), strict=True))
    else:
        values = {
            k: None if v is None else Decimal(v)
            for k, v in zip(RATE_KEYS, o.rates.values(), strict=True)
        }
    return ", ".join(f"{k.replace('_', ' ')} {rate(v)}" for k, v in values.items() if v is not None)


def override_line(o: OverrideInfo) -> str:
    """One row of `prices overrides`."""
    scope = {"workspace": f"workspace {o.org}/{o.workspace}", "org": f"org {o.org}"}.get(
        o.scope, "everyone"
    )
    period = f"{when(o.valid_from)} .. {when(o.valid_until) if o.valid_until else 'open'}"
    provider = f"{o.provider}/" if o.provider else ""
    return f"#{o.id:<4} {provider}{o.model:<36} {scope:<28} {period:<26} {override_terms(o)}"


def reprice_lines(report: RepriceReport) -> list[str]:
    """Before/after totals per model of a reprice."""
    verb = "would change" if report.dry_run else "changed"
    lines = [
        f"{report.calls} calls since {when(report.since)}"
        + (f" of model {report.model}" if report.model else "")
        + f": {report.cost_changed} {verb} cost, {report.changed - report.cost_changed} only "
        f"their price version",
        f"{'model':<40} {'calls':>7} {'changed':>7} {'before_usd':>12} {'after_usd':>12} "
        f"{'delta_usd':>12} unpriced",
    ]
    rows = sorted(
        report.by_model.items(),
        key=lambda kv: (-abs(kv[1].after_nanousd - kv[1].before_nanousd), kv[0]),
    )
    for model, t in rows + [("TOTAL", report.totals())]:
        lines.append(
            f"{model[:40]:<40} {t.calls:>7} {t.changed:>7} {usd_str(t.before_nanousd):>12} "
            f"{usd_str(t.after_nanousd):>12} {usd_str(t.after_nanousd - t.before_nanousd):>12} "
            f"{t.unpriced_before} -> {t.unpriced_after}"
        )
    return lines


def accuracy_line(a: ModelAccuracy, threshold: Decimal) -> str:
    """One row of `prices accuracy`."""
    pct = "-" if a.delta_pct is None else f"{a.delta_pct:+.2f}%"
    flag = "  <- check this price" if a.flagged(threshold) else ""
    unpriced = f" ({a.unpriced_calls} unpriced)" if a.unpriced_calls else ""
    return (
        f"{a.model[:36]:<36} {a.provider[:10]:<10} {a.calls:>6} {usd_str(a.client_nanousd):>12} "
        f"{usd_str(a.ours_nanousd):>12} {usd_str(a.delta_nanousd):>12} {pct:>9} {a.calls_off:>7}"
        f"{unpriced}{flag}"
    )


ACCURACY_HEADER = (
    f"{'model':<36} {'provider':<10} {'calls':>6} {'client_usd':>12} {'ours_usd':>12} "
    f"{'delta_usd':>12} {'delta':>9} {'off':>7}"
)


def accuracy_json(a: ModelAccuracy, threshold: Decimal) -> dict[str, Any]:
    """One model of the accuracy report as data (exact integers beside display strings)."""
    return {
        "model": a.model,
        "provider": a.provider,
        "calls": a.calls,
        "client_cost_nanousd": a.client_nanousd,
        "our_cost_nanousd": a.ours_nanousd,
        "delta_nanousd": a.delta_nanousd,
        "client_cost_usd": usd_str(a.client_nanousd),
        "our_cost_usd": usd_str(a.ours_nanousd),
        "delta_pct": None if a.delta_pct is None else f"{a.delta_pct:.4f}",
        "calls_off": a.calls_off,
        "unpriced_calls": a.unpriced_calls,
        "unpriced_client_cost_nanousd": a.unpriced_client_nanousd,
        "flagged": a.flagged(threshold),
    }
