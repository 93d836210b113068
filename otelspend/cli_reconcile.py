"""`otelspend reconcile ...`: provider-reported spend against what otelspend captured."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from collector_processor.reconcile.formats import FORMATS, parse_export
from collector_processor.reconcile.records import ExportError
from collector_processor.reconcile.report import (
    REPORT_GROUPINGS,
    ReportRow,
    build_report,
)
from otelspend.money import usd_str
from otelspend.reconcile_views import pct, report_header, report_json, report_line, usd2
from otelspend.timeparse import parse_since, to_ns
from store.engine import DEFAULT_DB_URL, make_engine
from store.migrate import upgrade
from store.reconcile import (
    count_uncaptured_in_budgets,
    import_lines,
    list_imports,
    list_mappings,
    remove_mapping,
    set_count_uncaptured_in_budgets,
    set_mapping,
)
from store.reconcile_queries import (
    NS_PER_DAY,
    billed_sums,
    captured_sums,
    day_floor,
    gateway_bypass,
    utc_day,
)
from store.tables import Org

DB_OPTION = click.option(
    "--db", envvar="OTELSPEND_DB", default=DEFAULT_DB_URL, show_default=True, help="Database URL."
)
ORG_OPTION = click.option("--org", default=None, help="Org name (default: the only org).")
_JSON = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def org_id_for(engine: Any, name: str | None) -> int:
    """The id of org `name`, or of the only org when no name is given."""
    orgs = Org.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(orgs.c.id, orgs.c.name).order_by(orgs.c.name)).all()
    if name is not None:
        for org_id, org_name in rows:
            if org_name == name:
                return int(org_id)
        raise click.BadParameter(f"no org {name!r}", param_hint="--org")
    if len(rows) == 1:
        return int(rows[0][0])
    if not rows:
        raise click.ClickException("no org yet: create one with `otelspend keys create`")
    raise click.UsageError(f"several orgs ({', '.join(r[1] for r in rows)}): pass --org")


def window(since: str, until: str | None) -> tuple[int, int]:
    """[since, until) in ns from --since/--until values (until defaults to now)."""
    try:
        since_ns = to_ns(parse_since(since))
        until_ns = to_ns(parse_since(until)) if until else to_ns(parse_since("0s"))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    if until_ns <= since_ns:
        raise click.BadParameter("--until must be after --since")
    return since_ns, until_ns


def open_store(db: str) -> Any:
    """An engine on the migrated store."""
    engine = make_engine(db)
    upgrade(engine)
    return engine


@click.group("reconcile")
def reconcile_group() -> None:
    """Compare provider-reported spend with what otelspend captured."""


@reconcile_group.command("import")
@DB_OPTION
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True)
@click.option("--provider", default="", help="CSV only: provider of rows without one.")
@ORG_OPTION
@_JSON
def reconcile_import(
    db: str, file: Path, fmt: str, provider: str, org: str | None, as_json: bool
) -> None:
    """Load a provider export; re-importing a period replaces it, never doubles it."""
    raw = file.read_bytes()
    try:
        parsed = parse_export(fmt, raw.decode("utf-8-sig"), provider.lower())
    except (ExportError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: {exc}") from exc
    engine = open_store(db)
    result = import_lines(
        engine,
        org_id_for(engine, org),
        kind=parsed.kind,
        fmt=fmt,
        lines=[dataclasses.asdict(line) for line in parsed.lines],
        covered=parsed.covered,
        file_name=file.name,
        file_sha256=hashlib.sha256(raw).hexdigest(),
    )
    warnings = [*parsed.warnings, *result.warnings]
    if as_json:
        out = {**dataclasses.asdict(result), "warnings": warnings}
        click.echo(json.dumps(out, indent=2))
        return
    last_day = utc_day(result.period_end_ns - 1)
    click.echo(
        f"imported {result.lines} line(s) from {file.name} ({fmt}), "
        f"{utc_day(result.period_start_ns)}..{last_day} UTC; "
        f"replaced {result.replaced_lines} line(s) previously imported for that period"
    )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@reconcile_group.command("imports")
@DB_OPTION
@ORG_OPTION
@_JSON
def reconcile_imports(db: str, org: str | None, as_json: bool) -> None:
    """List imports, newest first."""
    engine = open_store(db)
    rows = list_imports(engine, org_id_for(engine, org))
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(r) for r in rows], indent=2, default=str))
        return
    for r in rows:
        click.echo(
            f"#{r.id:<4} {r.imported_at:%Y-%m-%d %H:%M}  {r.format:<16} {r.provider:<10} "
            f"{utc_day(r.period_start_ns)}..{utc_day(r.period_end_ns - 1)}  {r.lines} lines "
            f"(replaced {r.replaced_lines})  {r.file_name}"
        )


_MAP_TARGETS = {
    "workspace_id": "workspace",
    "project_id": "workspace",
    "api_key_id": "api_key",
}


@reconcile_group.command("map")
@DB_OPTION
@click.option("--provider", default=None, help="anthropic, openai, or a CSV provider.")
@click.option("--workspace-id", default=None, help="Provider workspace id (Anthropic).")
@click.option("--project-id", default=None, help="Provider project id (OpenAI).")
@click.option("--api-key-id", default=None, help="Provider API key id (most specific).")
@click.option("--unassigned", is_flag=True, help="Lines naming no workspace/project.")
@click.option("--to", "to_workspace", default=None, help="otelspend workspace name.")
@click.option("--remove", is_flag=True, help="Remove the mapping instead.")
@click.option("--list", "list_only", is_flag=True, help="List the mappings.")
@ORG_OPTION
@_JSON
def reconcile_map(db: str, org: str | None, as_json: bool, list_only: bool, **opts: Any) -> None:
    """Tie a provider workspace, project or API key to an otelspend workspace."""
    engine = open_store(db)
    org_id = org_id_for(engine, org)
    if list_only:
        maps = list_mappings(engine, org_id)
        if as_json:
            click.echo(json.dumps([dataclasses.asdict(m) for m in maps], indent=2))
        for m in [] if as_json else maps:
            click.echo(
                f"{m.provider:<10} {m.kind:<9} {m.external_id or '(unassigned)':<40} "
                f"→ {m.workspace}"
            )
        return
    provider, kind, external = _map_target(opts)
    if opts["remove"]:
        if not remove_mapping(engine, org_id, provider, kind, external):
            raise click.ClickException("no such mapping (see `otelspend reconcile map --list`)")
        click.echo(f"removed {provider} {kind} {external or '(unassigned)'}")
        return
    if not opts["to_workspace"]:
        raise click.UsageError("give --to WORKSPACE (or --remove)")
    try:
        set_mapping(engine, org_id, provider, kind, external, opts["to_workspace"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--to") from exc
    click.echo(f"{provider} {kind} {external or '(unassigned)'} → {opts['to_workspace']}")


def _map_target(opts: dict[str, Any]) -> tuple[str, str, str]:
    """(provider, kind, external id) named by the map options."""
    if not opts["provider"]:
        raise click.UsageError("give --provider")
    chosen = [(k, opts[k]) for k in _MAP_TARGETS if opts[k] is not None]
    if len(chosen) + bool(opts["unassigned"]) != 1:
        raise click.UsageError(
            "give exactly one of --workspace-id, --project-id, --api-key-id, --unassigned"
        )
    if opts["unassigned"]:
        return opts["provider"].lower(), "workspace", ""
    option, external = chosen[0]
    return opts["provider"].lower(), _MAP_TARGETS[option], external.strip()


@reconcile_group.command("report")
@DB_OPTION
@click.option("--by", type=click.Choice(REPORT_GROUPINGS), default="day", show_default=True)
@click.option("--since", default="30d", show_default=True, help="Start (whole UTC days).")
@click.option("--until", default=None, help="End (default: now; whole UTC days).")
@ORG_OPTION
@_JSON
def reconcile_report(
    db: str, by: str, since: str, until: str | None, org: str | None, as_json: bool
) -> None:
    """Billed vs captured spend, delta, capture rate, and where each gap comes from."""
    since_ns, until_ns = window(since, until)
    since_ns, until_ns = day_floor(since_ns), day_floor(until_ns - 1) + NS_PER_DAY
    engine = open_store(db)
    org_id = org_id_for(engine, org)
    rows = reconcile_rows(engine, org_id, since_ns, until_ns, by)
    if as_json:
        click.echo(json.dumps([report_json(by, r) for r in rows], indent=2))
        return
    if rows[-1].billed_nanousd is None and rows[-1].billed_tokens is None:
        click.echo(
            "No provider report imported for this window (`otelspend reconcile import`).", err=True
        )
    click.echo(report_header(by))
    for r in rows:
        click.echo(report_line(r))


def reconcile_rows(
    engine: Any, org_id: int, since_ns: int, until_ns: int, by: str
) -> list[ReportRow]:
    """The report over whole UTC days: store sums in, report maths out."""
    billed = billed_sums(engine, org_id, since_ns, until_ns)
    captured = captured_sums(engine, org_id, since_ns, until_ns)
    return build_report(billed, captured, by)


@reconcile_group.command("gateway")
@DB_OPTION
@click.option("--since", default="7d", show_default=True)
@click.option("--until", default=None)
@ORG_OPTION
@_JSON
def reconcile_gateway(
    db: str, since: str, until: str | None, org: str | None, as_json: bool
) -> None:
    """Per user: spend the CLIs' telemetry reports vs what the gateway saw (who bypasses it)."""
    since_ns, until_ns = window(since, until)
    engine = open_store(db)
    rows = gateway_bypass(engine, org_id_for(engine, org), since_ns, until_ns)
    if as_json:
        out = [
            {
                **dataclasses.asdict(r),
                "bypass_nanousd": r.bypass_nanousd,
                "bypass_usd": usd_str(r.bypass_nanousd),
            }
            for r in rows
        ]
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(f"{'user':<32} {'cli_telemetry':>13} {'gateway':>11} {'bypass':>11} {'share':>7}")
    for r in rows:
        share = Decimal(r.bypass_nanousd) / r.telemetry_nanousd if r.telemetry_nanousd else None
        click.echo(
            f"{r.user[:32]:<32} {usd2(r.telemetry_nanousd):>13} {usd2(r.gateway_nanousd):>11} "
            f"{usd2(r.bypass_nanousd):>11} {pct(share):>7}"
        )


@reconcile_group.command("budgets")
@DB_OPTION
@click.option(
    "--count-uncaptured/--ignore-uncaptured",
    "enabled",
    default=None,
    help="Count uncaptured spend toward the org's and workspaces' budgets (a separate line).",
)
@ORG_OPTION
def reconcile_budgets(db: str, enabled: bool | None, org: str | None) -> None:
    """Show or set whether budgets include spend the provider billed but otelspend missed."""
    engine = open_store(db)
    org_id = org_id_for(engine, org)
    if enabled is not None:
        set_count_uncaptured_in_budgets(engine, org_id, enabled)
    state = count_uncaptured_in_budgets(engine, org_id)
    click.echo(f"uncaptured spend counts toward budgets: {'yes' if state else 'no'}")
