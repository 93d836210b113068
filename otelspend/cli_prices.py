"""`otelspend prices ...`: see the rates in force, import catalogs, override, re-price, audit.

The group and its listings live here; reports are in cli_prices_reports and the commands
that change prices in cli_prices_change.
"""

from __future__ import annotations

import difflib
import json
from datetime import UTC, datetime
from typing import Any

import click

from collector_processor.pricing.book import PriceBook, Resolution
from collector_processor.pricing.catalog import ModelRates
from collector_processor.pricing.listing import CatalogEntry, RatesAt
from collector_processor.pricing.model_ids import lookup_candidates, normalize_model_id
from otelspend.actor import DB_OPTION, JSON_OPTION, group_defaults
from otelspend.cli_prices_change import (
    prices_import,
    prices_override,
    prices_remove_override,
    prices_reprice,
)
from otelspend.cli_prices_reports import prices_accuracy, prices_unpriced
from otelspend.prices_args import echo_records, open_prices, parse_moment
from otelspend.prices_views import (
    LIST_HEADER,
    list_line,
    override_line,
    override_terms,
    rates_block,
    rates_inline,
    rates_json,
    when,
)
from store.price_overrides import ScopeError, list_overrides, resolve_scope
from store.prices import list_versions, load_price_book

_MAX_SUGGESTIONS = 5


@click.group()
@click.pass_context
def prices(ctx: click.Context) -> None:
    """Prices: versions, overrides, re-pricing, unpriced models, cost accuracy."""
    group_defaults(ctx, prices)


@prices.command("list")
@DB_OPTION
@click.option("--model", default=None, help="Show this model as a call naming it is priced.")
@click.option("--provider", default=None, help="Only this provider (e.g. anthropic, aws).")
@click.option("--at", "at", default=None, help="Rates in force at this date (default: now).")
@click.option("--org", default=None, help="Apply this org's overrides.")
@click.option("--workspace", default=None, help="Apply this workspace's overrides.")
@JSON_OPTION
def prices_list(
    db: str,
    model: str | None,
    provider: str | None,
    at: str | None,
    org: str | None,
    workspace: str | None,
    as_json: bool,
) -> None:
    """Show the rates in force (USD per million tokens) and where each comes from."""
    moment = parse_moment(at, "--at") if at else datetime.now(UTC)
    engine = open_prices(db)
    try:
        scope = resolve_scope(engine, org, workspace)
    except ScopeError as exc:
        raise click.BadParameter(str(exc), param_hint="--org/--workspace") from None
    book = load_price_book(engine)
    if model:
        _show_model(book, model, provider or "", moment, scope.org_id, scope.workspace_id, as_json)
        return
    rows = _listing(book, provider, moment, scope.org_id, scope.workspace_id)
    if as_json:
        click.echo(json.dumps([_row_json(e, r) for e, r in rows], indent=2))
        return
    click.echo(f"Rates in force at {when(moment)}, USD per million tokens ('-': billed as the")
    click.echo(
        "class it is part of: cache at input, 1 h writes at 5 min writes, reasoning at output)"
    )
    click.echo(LIST_HEADER)
    for entry, res in rows:
        click.echo(list_line(entry.provider_id, entry.model_id, res.rates, res.price_version))
    click.echo(f"{len(rows)} models")


def _listing(
    book: PriceBook,
    provider: str | None,
    at: datetime,
    org_id: int | None,
    workspace_id: int | None,
) -> list[tuple[CatalogEntry, Resolution]]:
    """Every model of every version in force (newest version first wins), overrides applied."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for version in book.in_force(at):
        for entry in version.catalog.entries():  # type: ignore[attr-defined]
            key = (entry.provider_id, entry.model_id)
            if key in seen or (provider and entry.provider_id != provider):
                continue
            seen.add(key)
            rates = entry.rates_at(at)
            if rates is None:
                continue
            res = Resolution(rates, version.label, entry.provider_id, entry.model_id, None, version)
            cands = ((entry.provider_id, entry.model_id.lower()),)
            found = (rates, version)
            o = book.override_for([cands[0][1]], cands, at, org_id, workspace_id, found)
            rows.append((entry, book.apply_override(o, cands, found) if o else res))
    listed = {e.model_id.lower() for e, _ in rows}
    for o in book.overrides:  # custom models: priced by an override alone
        if o.rates is None or o.model in listed or not o.in_force(at):
            continue
        if o.covers(org_id, workspace_id) and (not provider or o.provider_id == provider):
            res = book.apply_override(o, ((o.provider_id, o.model),), None)
            rows.append((CatalogEntry(o.provider_id, o.model, o.model, (), _fixed(res)), res))
    return rows


def _fixed(res: Resolution) -> RatesAt:
    def rates_at(_at: datetime) -> ModelRates:
        return res.rates

    return rates_at


def _row_json(entry: CatalogEntry, res: Resolution) -> dict[str, Any]:
    return {
        "provider": entry.provider_id,
        "model": entry.model_id,
        "name": entry.name,
        "source": res.price_version,
        "override_id": res.override.override_id if res.override else None,
        "rates_usd_per_mtok": rates_json(res.rates),
    }


def _show_model(
    book: PriceBook,
    model: str,
    provider: str,
    at: datetime,
    org_id: int | None,
    workspace_id: int | None,
    as_json: bool,
) -> None:
    candidates = lookup_candidates(provider, model)
    res = book.resolve(candidates, at, org_id, workspace_id)
    if res is None:
        ref = normalize_model_id(provider, model)[1]
        ids = {e.model_id.lower() for v in book.in_force(at) for e in v.catalog.entries()}  # type: ignore[attr-defined]
        near = difflib.get_close_matches(ref, sorted(ids), n=_MAX_SUGGESTIONS, cutoff=0.75)
        hint = f"; similar ids: {', '.join(near)}" if near else ""
        raise click.ClickException(
            f"no price for {model!r} at {when(at)}: its calls are stored unpriced "
            f"(add one with `otelspend prices override --model {model} --input X --output Y "
            f"--from DATE`){hint}"
        )
    tiers = _service_tiers(res, at)
    if as_json:
        out = {
            "provider": res.provider_id,
            "model": res.model_id,
            "at": at.isoformat(),
            "source": res.price_version,
            "override_id": res.override.override_id if res.override else None,
            "rates_usd_per_mtok": rates_json(res.rates),
            "service_tiers": {name: rates_json(r) for name, r in tiers.items()},
        }
        click.echo(json.dumps(out, indent=2))
        return
    name = f"{res.provider_id}/{res.model_id}" if res.provider_id else res.model_id
    click.echo(f"{name} at {when(at)}, USD per million tokens")
    click.echo(f"  source          {_source_text(res)}")
    for line in rates_block(res.rates):
        click.echo(line)
    for name, r in tiers.items():
        click.echo(f"  service tier {name}: {rates_inline(r)}")
    if tiers:
        click.echo("  (service tiers are listed only: calls are billed at the standard rates)")


def _source_text(res: Resolution) -> str:
    if res.override is None:
        assert res.version is not None
        return f"{res.price_version} (price version #{res.version.version_id})"
    o = res.override
    return f"override #{o.override_id} ({o.scope}, {override_terms(o)})" + (
        f" on {res.version.label}" if res.version is not None else ""
    )


def _service_tiers(res: Resolution, at: datetime) -> dict[str, Any]:
    if res.version is None:
        return {}
    for entry in res.version.catalog.entries():  # type: ignore[attr-defined]
        if (entry.provider_id, entry.model_id) == (res.provider_id, res.model_id):
            return dict(entry.service_tiers_at(at))
    return {}


@prices.command("versions")
@DB_OPTION
@JSON_OPTION
def prices_versions(db: str, as_json: bool) -> None:
    """List stored price versions (catalog snapshots) and when each takes effect."""
    infos = list_versions(open_prices(db))
    if as_json:
        echo_records(infos)
        return
    click.echo(
        f"{'id':>4} {'label':<36} {'format':<13} {'in force from':<20} {'models':>6}  stored"
    )
    for i in infos:
        click.echo(
            f"{i.id:>4} {i.label[:36]:<36} {i.format:<13} {when(i.effective_from):<20} "
            f"{i.models:>6}  {i.created_at:%Y-%m-%d %H:%M} by {i.created_by or '-'}"
        )


@prices.command("overrides")
@DB_OPTION
@JSON_OPTION
def prices_overrides(db: str, as_json: bool) -> None:
    """List price overrides (negotiated discounts, custom models) with their scope and period."""
    infos = list_overrides(open_prices(db))
    if as_json:
        echo_records(infos)
        return
    if not infos:
        click.echo("No overrides: every call is priced from the catalog versions.")
    for i in infos:
        click.echo(override_line(i))


prices.add_command(prices_unpriced)
prices.add_command(prices_accuracy)
prices.add_command(prices_import)
prices.add_command(prices_override)
prices.add_command(prices_remove_override)
prices.add_command(prices_reprice)
