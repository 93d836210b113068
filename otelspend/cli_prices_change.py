"""The `otelspend prices` commands that change prices: import, override, re-price.

Each change is one transaction with its audit row.  Running servers pick a change up within
seconds (PriceBookRefresher); calls already stored keep their price until `prices reprice`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click

from collector_processor.pricing.book import BEGINNING
from collector_processor.pricing.diff import diff_catalog
from collector_processor.pricing.engine import Pricer
from collector_processor.pricing.formats import (
    FORMAT_GENAI_PRICES,
    FORMATS,
    Catalog,
    decode,
    detect_format,
    load_catalog,
)
from collector_processor.pricing.genai_json import CatalogFormatError
from collector_processor.pricing.model_ids import lookup_candidates, normalize_model_id
from collector_processor.pricing.model_ids import provider_id_for as provider_id
from otelspend.actor import ACTOR_OPTION, DB_OPTION, JSON_OPTION
from otelspend.prices_args import actor_name, open_prices, parse_decimal, parse_moment
from otelspend.prices_views import diff_json, diff_lines, override_terms, reprice_lines, when
from store.price_overrides import OverrideSpec, ScopeError, add_override, remove_override
from store.price_overrides import resolve_scope as find_scope
from store.prices import find_version, load_price_book, sha256_of, store_version
from store.reprice import reprice

_REFRESH_NOTE = "running servers use it within 5 s"
_PROGRESS_FROM_CALLS = 10_000


@click.command("import")
@DB_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="File format (default: detected: a JSON list is genai-prices data, an "
              "object is LiteLLM's model_prices_and_context_window.json).")  # fmt: skip
@click.option("--effective", default=None,
              help="In force from this date (default: genai-prices data carries its own "
              "dates, so from the start; a LiteLLM file from now).")  # fmt: skip
@click.option("--label", default=None, help="Version label (default: format, date, content).")
@click.option("--dry-run", is_flag=True, help="Show the diff; store nothing.")
@ACTOR_OPTION
@JSON_OPTION
def prices_import(
    db: str,
    file: Path,
    fmt: str | None,
    effective: str | None,
    label: str | None,
    dry_run: bool,
    actor: str | None,
    as_json: bool,
) -> None:
    """Load a newer catalog, show what it changes, and store it as a new price version."""
    incoming = _read_price_file(file, fmt, label)
    if effective is not None:
        effective_from = parse_moment(effective, "--effective")
    else:  # genai-prices data dates its own prices; a LiteLLM file is as of today
        effective_from = BEGINNING if incoming.fmt == FORMAT_GENAI_PRICES else incoming.read_at
    engine = open_prices(db)
    prior = find_version(engine, label=incoming.label, sha256=incoming.sha256)
    if prior is not None:
        raise click.ClickException(
            f"already stored as price version #{prior.id} ({prior.label!r}): same label or content"
        )
    diff = diff_catalog(load_price_book(engine), incoming.catalog, effective_from)
    if as_json:
        head = {"label": incoming.label, "format": incoming.fmt}
        click.echo(json.dumps({**head, **diff_json(diff)}, indent=2))
    else:
        click.echo(f"{file}: {incoming.fmt} catalog, {diff.models} models priced by the token;")
        click.echo(f"changes against the prices in force, if in force from {when(effective_from)}:")
        for line in diff_lines(diff):
            click.echo(line)
    if dry_run:
        click.echo("dry run: nothing stored", err=True)
        return
    audit = {"label": incoming.label, "format": incoming.fmt, "sha256": incoming.sha256,
             "file": file.name, "effective_from": effective_from, "models": diff.models,
             "added": len(diff.added), "changed": len(diff.changed)}  # fmt: skip
    with engine.begin() as conn:
        version_id = store_version(
            conn, label=incoming.label, fmt=incoming.fmt, body=incoming.body,
            effective_from=effective_from, models=diff.models, actor=actor_name(actor),
            audit=audit,
        )  # fmt: skip
    click.echo(
        f"stored as price version #{version_id} ({incoming.label!r}); {_REFRESH_NOTE}. Calls "
        "already stored keep their price until `otelspend prices reprice --since DATE`.",
        err=True,
    )


@dataclass(frozen=True, slots=True)
class PriceFile:
    """A price file read and validated, not stored yet."""

    body: str
    fmt: str
    label: str
    sha256: str
    catalog: Catalog
    read_at: datetime


def _read_price_file(file: Path, fmt: str | None, label: str | None) -> PriceFile:
    """Decode, detect and validate; a bad file is a ClickException naming it."""
    body = file.read_text(encoding="utf-8")
    read_at = datetime.now(UTC)
    sha = sha256_of(body)
    try:
        document = decode(body)
        fmt = fmt or detect_format(document)
        label = label or f"{fmt} {read_at:%Y-%m-%d} {sha[:8]}"
        catalog = load_catalog(fmt, document, label)
    except CatalogFormatError as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    return PriceFile(body, fmt, label, sha, catalog, read_at)


_RATE_OPTIONS = (
    ("--input", "input_usd_per_mtok"),
    ("--cache-read", "cache_read_usd_per_mtok"),
    ("--cache-write", "cache_write_usd_per_mtok"),
    ("--cache-write-1h", "cache_write_1h_usd_per_mtok"),
    ("--output", "output_usd_per_mtok"),
    ("--reasoning", "reasoning_usd_per_mtok"),
)


@click.command("override")
@DB_OPTION
@click.option("--model", required=True, help="The model (as calls name it; normalized).")
@click.option("--provider", default="", help="Only calls of this provider (default: any).")
@click.option("--org", default=None, help="Only this org (default: everyone).")
@click.option(
    "--workspace", default=None, help="Only this workspace (wins over an org-wide override)."
)
@click.option("--discount", default=None, help="Percent off the catalog rates, e.g. 15.")
@click.option("--input", default=None, help="USD per million uncached input tokens.")
@click.option("--cache-read", default=None, help="USD/MTok cache reads (default: as input).")
@click.option("--cache-write", default=None, help="USD/MTok 5 min cache writes (default: input).")
@click.option("--cache-write-1h", default=None, help="USD/MTok 1 h writes (default: as 5 min).")
@click.option("--output", default=None, help="USD per million output tokens.")
@click.option("--reasoning", default=None, help="USD/MTok reasoning (default: as output).")
@click.option("--from", "from_", required=True, help="In force from (date, UTC unless offset).")
@click.option("--until", default=None, help="In force until, exclusive (default: open-ended).")
@click.option("--note", default="", help="Why (contract, ticket); kept in the audit log.")
@ACTOR_OPTION
def prices_override(
    db: str,
    model: str,
    provider: str,
    org: str | None,
    workspace: str | None,
    discount: str | None,
    from_: str,
    until: str | None,
    note: str,
    actor: str | None,
    **rate_args: str | None,
) -> None:
    """Record negotiated or custom prices that win over the catalog for a scope and period."""
    pct = parse_decimal(discount, "--discount", positive=True)
    rates = _rates(rate_args)
    if (pct is None) == (not rates):
        raise click.UsageError("give either --discount PCT or rates (--input X --output Y ...)")
    if pct is None and not {"input_usd_per_mtok", "output_usd_per_mtok"} <= rates.keys():
        raise click.UsageError("custom rates need at least --input and --output")
    valid_from = parse_moment(from_, "--from")
    valid_until = parse_moment(until, "--until") if until else None
    engine = open_prices(db)
    try:
        scope = find_scope(engine, org, workspace)
    except ScopeError as exc:
        raise click.BadParameter(str(exc), param_hint="--org/--workspace") from None
    pid = provider_id(provider) if provider else ""
    ref = normalize_model_id(pid, model)[1]
    spec = OverrideSpec(ref, pid, scope, valid_from, valid_until, pct, rates or None, note)
    try:
        spec.as_override()  # validates: discount range, period order, rates
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    book = load_price_book(engine)
    if pct is not None and book.catalog_rates(lookup_candidates(pid, model), valid_from) is None:
        raise click.ClickException(
            f"{model!r} has no catalog price at {when(valid_from)} to discount: set its rates "
            "with --input and --output instead"
        )
    new_id = add_override(engine, spec, actor_name(actor))
    period = f"from {when(valid_from)}" + (f" until {when(valid_until)}" if valid_until else "")
    click.echo(
        f"override #{new_id}: {ref} for {scope.describe()}: {override_terms(spec.as_override())} "
        f"{period}; {_REFRESH_NOTE}. Re-price calls already stored with "
        f"`otelspend prices reprice --since {valid_from:%Y-%m-%d} --model {ref}`."
    )


def _rates(rate_args: dict[str, str | None]) -> dict[str, Decimal]:
    """The rate options given, as exact decimals keyed by override column."""
    out = {}
    for option, column in _RATE_OPTIONS:
        value = parse_decimal(rate_args[option.lstrip("-").replace("-", "_")], option)
        if value is not None:
            out[column] = value
    return out


@click.command("remove-override")
@DB_OPTION
@click.argument("override_id", type=int)
@ACTOR_OPTION
def prices_remove_override(db: str, override_id: int, actor: str | None) -> None:
    """Delete an override (audited); calls already stored keep their price until a reprice."""
    info = remove_override(open_prices(db), override_id, actor_name(actor))
    if info is None:
        raise click.ClickException(f"no override #{override_id} (see `otelspend prices overrides`)")
    click.echo(
        f"removed override #{override_id} ({info.model}); running servers stop using it within "
        f"5 s. Re-price calls it priced with `otelspend prices reprice --since "
        f"{info.valid_from:%Y-%m-%d} --model {info.model}`."
    )


@click.command("reprice")
@DB_OPTION
@click.option("--since", required=True, help="Calls started at or after this date/duration.")
@click.option("--model", default=None, help="Only calls of this model.")
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@ACTOR_OPTION
@JSON_OPTION
def prices_reprice(
    db: str, since: str, model: str | None, dry_run: bool, actor: str | None, as_json: bool
) -> None:
    """Recompute stored calls' costs and rollups under the prices in force at each call."""
    moment = parse_moment(since, "--since")
    engine = open_prices(db)
    pricer = Pricer(load_price_book(engine))

    def progress(phase: str, done: int, total: int) -> None:
        if total >= _PROGRESS_FROM_CALLS:  # quick runs stay quiet
            click.echo(f"  {phase}: {done:,}/{total:,} calls", err=True)

    report = reprice(engine, pricer, since=moment, model=model, dry_run=dry_run,
                     actor=actor_name(actor), progress=progress)  # fmt: skip
    if as_json:
        out = {
            "since": moment.isoformat(), "model": model, "dry_run": dry_run,
            "calls": report.calls, "changed": report.changed, "cost_changed": report.cost_changed,
            "by_model": {m: {f: getattr(t, f) for f in t.__slots__}  # type: ignore[attr-defined]
                         for m, t in sorted(report.by_model.items())},
        }  # fmt: skip
        click.echo(json.dumps(out, indent=2))
    else:
        for line in reprice_lines(report):
            click.echo(line)
    tail = "dry run: nothing changed" if dry_run else "done: calls, rollups and audit log updated"
    click.echo(tail, err=True)
