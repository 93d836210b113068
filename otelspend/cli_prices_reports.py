"""`otelspend prices unpriced` and `prices accuracy`: read-only reports."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from otelspend.actor import DB_OPTION, JSON_OPTION
from otelspend.money import usd_str
from otelspend.prices_args import open_prices, parse_decimal, parse_moment
from otelspend.prices_views import ACCURACY_HEADER, accuracy_json, accuracy_line, when
from store.price_overrides import ScopeError, resolve_scope
from store.price_reports import DEFAULT_THRESHOLD_PCT, cost_accuracy, unpriced_model_uses

_NS = 1_000_000_000


@click.command("unpriced")
@DB_OPTION
@click.option("--org", default=None, help="Only this org's calls (default: every org).")
@JSON_OPTION
def prices_unpriced(db: str, org: str | None, as_json: bool) -> None:
    """List models seen without a price (their calls are kept and flagged, never $0)."""
    engine = open_prices(db)
    try:
        scope = resolve_scope(engine, org, None)
    except ScopeError as exc:
        raise click.BadParameter(str(exc), param_hint="--org") from None
    uses = unpriced_model_uses(engine, scope.org_id)
    if as_json:
        rows = [
            {
                **{f: getattr(u.model, f) for f in u.model.__slots__},
                "user_names": list(u.user_names),
            }
            for u in uses
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not uses:
        click.echo("Every model seen has a price.")
        return
    click.echo(
        f"{'model':<40} {'provider':<12} {'calls':>7} {'in_tokens':>10} {'out_tokens':>10} "
        f"{'first seen':<16} {'last seen':<16} users"
    )
    for u in uses:
        r = u.model
        first, last = (
            datetime.fromtimestamp(ns // _NS, UTC) for ns in (r.first_seen_ns, r.last_seen_ns)
        )
        names = ", ".join(u.user_names) + (" ..." if r.users > len(u.user_names) else "")
        click.echo(
            f"{r.model[:40]:<40} {r.provider[:12]:<12} {r.calls:>7} {r.input_tokens:>10} "
            f"{r.output_tokens:>10} {first:%Y-%m-%d %H:%M} {last:%Y-%m-%d %H:%M} "
            f"{r.users} ({names})"
        )


@click.command("accuracy")
@DB_OPTION
@click.option("--since", default="30d", show_default=True, help="Duration back or a date.")
@click.option("--threshold", default=str(DEFAULT_THRESHOLD_PCT), show_default=True,
              help="Flag models whose total differs by more than this percentage.")  # fmt: skip
@JSON_OPTION
def prices_accuracy(db: str, since: str, threshold: str, as_json: bool) -> None:
    """Compare the cost clients report (Claude Code cost_usd, OpenLIT, OpenInference) with ours."""
    moment = parse_moment(since, "--since")
    limit = parse_decimal(threshold, "--threshold", positive=True)
    assert limit is not None
    since_ns = int(moment.timestamp()) * _NS
    rows = cost_accuracy(open_prices(db), since_ns=since_ns, threshold_pct=limit)
    if as_json:
        click.echo(json.dumps([accuracy_json(r, limit) for r in rows], indent=2))
        return
    if not rows:
        click.echo(
            f"No call since {when(moment)} carries a cost reported by its client (Claude Code "
            "cost_usd, OpenLIT gen_ai.usage.cost, OpenInference llm.cost.total)."
        )
        return
    click.echo(ACCURACY_HEADER)
    for r in rows:
        click.echo(accuracy_line(r, limit))
    flagged = [r for r in rows if r.flagged(limit)]
    total_client = sum(r.client_nanousd for r in rows)
    total_ours = sum(r.ours_nanousd for r in rows)
    click.echo(f"TOTAL client {usd_str(total_client)} ours {usd_str(total_ours)}")
    if flagged:
        click.echo(
            f"{len(flagged)} model(s) differ by more than {limit}%: a stale or missing price is "
            "the usual cause (compare with `otelspend prices list --model M`)."
        )
