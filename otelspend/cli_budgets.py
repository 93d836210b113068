"""`otelspend budgets ...`: set limits, defaults and exceptions; see where spend stands."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from collector_processor.budgets.evaluate import status_states
from collector_processor.budgets.windows import WINDOW_KINDS, org_zone, parse_window_kind
from otelspend.actor import (
    ACTOR_OPTION,
    DB_OPTION,
    JSON_OPTION,
    ORG_OPTION,
    Acting,
    acting,
    fail,
    group_defaults,
    parse_scope,
    parse_until,
    parse_usd,
    to_json,
)
from otelspend.budget_views import (
    STATUS_HEADER,
    budget_json,
    budget_line,
    names_for,
    state_json,
    state_line,
    visible,
    visible_budgets,
)
from store.budgets import (
    BudgetSpec,
    delete_budget,
    get_budget,
    load_budgets,
    parse_thresholds,
    set_budget,
)
from store.members import PermissionDenied
from store.subjects import resolve_subject, set_org_timezone

_SPEC_OPTIONS = (
    click.option(
        "--window",
        required=True,
        help=f"Calendar window in the org's zone: {', '.join(WINDOW_KINDS)} (or hourly, ...).",
    ),
    click.option("--limit", "limit", required=True, help="Dollars per window, e.g. 50."),
    click.option("--agent", default="", help="Only spend of this agent (e.g. claude-code)."),
    click.option("--model", default="", help="Only spend on this model."),
    click.option(
        "--mode",
        type=click.Choice(["hard", "soft"]),
        default="soft",
        show_default=True,
        help="hard: the gateway blocks calls over it; soft: alerts only.",
    ),
    click.option(
        "--thresholds", default="50,80,100", show_default=True, help="Alert at these percentages."
    ),
    ACTOR_OPTION,
    ORG_OPTION,
    DB_OPTION,
    JSON_OPTION,
)


def _spec_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options every budget-setting command shares."""
    for option in reversed(_SPEC_OPTIONS):
        command = option(command)
    return command


@click.group()
@click.pass_context
def budgets(ctx: click.Context) -> None:
    """Budgets: limits per org, workspace, user or key and calendar window."""
    group_defaults(ctx, budgets)


def _spec(org_id: int, scope: str, scope_id: int, opts: dict[str, Any]) -> BudgetSpec:
    """Validate the shared options into a BudgetSpec (usage errors name the problem)."""
    try:
        return BudgetSpec(
            org_id,
            scope,
            scope_id,
            parse_window_kind(opts["window"]),
            parse_usd(opts["limit"]),
            agent=opts["agent"],
            model=opts["model"],
            mode=opts["mode"],
            thresholds=parse_thresholds(opts["thresholds"]),
            until=opts.get("until"),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _save(a: Acting, spec: BudgetSpec, as_json: bool) -> None:
    try:
        a.actor.require_admin("set budgets")
        with a.engine.begin() as conn:
            budget, created = set_budget(conn, spec, a.actor.name, a.org.name)
            names = names_for(conn, [budget])
    except PermissionDenied as exc:
        raise fail(exc) from exc
    if as_json:
        click.echo(json.dumps(budget_json(budget, names), default=to_json, indent=2))
        return
    click.echo(f"{'created' if created else 'updated'} budget {budget.id}:")
    click.echo(budget_line(budget, names))


@budgets.command("set")
@click.option("--scope", required=True, help="org, workspace:NAME, user:NAME or key:PREFIX.")
@click.option("--until", default=None, help="An exception ends then (date inclusive, or 7d).")
@_spec_options
def budgets_set(
    db: str,
    org: str,
    actor: str | None,
    scope: str,
    until: str | None,
    as_json: bool,
    **opts: Any,
) -> None:
    """Set the budget of one scope and window (creates or updates; an exception to defaults).

    A budget set mid-window counts the spend already made in that window.
    """
    kind, name = parse_scope(scope)
    a = acting(db, org, actor)
    if kind != "org" and not name:
        raise click.BadParameter(f"name the {kind}: --scope {kind}:NAME (or `budgets default`)")
    try:
        with a.engine.connect() as conn:
            scope_id = resolve_subject(conn, a.org.id, kind, name or a.org.name)
    except LookupError as exc:
        raise fail(exc) from exc
    opts["until"] = parse_until(until, a.org.timezone) if until else None
    _save(a, _spec(a.org.id, kind, scope_id, opts), as_json)


@budgets.command("default")
@click.option("--scope", type=click.Choice(["workspace", "user", "key"]), required=True)
@_spec_options
def budgets_default(
    db: str, org: str, actor: str | None, scope: str, as_json: bool, **opts: Any
) -> None:
    """Set the default for every workspace, user or key without a budget of its own."""
    a = acting(db, org, actor)
    _save(a, _spec(a.org.id, scope, 0, opts), as_json)


@budgets.command("list")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@JSON_OPTION
def budgets_list(db: str, org: str, actor: str | None, as_json: bool) -> None:
    """List the org's budgets: defaults and exceptions."""
    a = acting(db, org, actor)
    with a.engine.connect() as conn:
        rows = visible_budgets(conn, a.actor, load_budgets(conn, a.org.id))
        names = names_for(conn, rows)
    if as_json:
        click.echo(json.dumps([budget_json(b, names) for b in rows], default=to_json, indent=2))
        return
    if not rows:
        click.echo(
            "No budgets. Try: otelspend budgets default --scope user --window day --limit 50"
        )
        return
    click.echo(
        f"{'id':>4} {'subject':<26} {'filter':<22} {'window':<6} {'limit':>14} mode thresholds"
    )
    for b in rows:
        click.echo(budget_line(b, names))


@budgets.command("show")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.argument("budget_id", type=int)
@JSON_OPTION
def budgets_show(db: str, org: str, actor: str | None, budget_id: int, as_json: bool) -> None:
    """Show one budget and where its spend stands in the current window."""
    a = acting(db, org, actor)
    with a.engine.connect() as conn:
        budget = get_budget(conn, budget_id)
        if (
            budget is None
            or budget.org_id != a.org.id
            or not visible_budgets(conn, a.actor, [budget])
        ):
            raise click.ClickException(f"no budget {budget_id} in org {a.org.name}")
        states = visible(conn, a.actor, status_states(conn, a.org, datetime.now(UTC), [budget.id]))
        names = names_for(conn, [budget], states)
    if as_json:
        out = {**budget_json(budget, names), "states": [state_json(s, names) for s in states]}
        click.echo(json.dumps(out, default=to_json, indent=2))
        return
    click.echo(budget_line(budget, names))
    click.echo(f"time zone {a.org.timezone}; created by {budget.created_by or '-'}")
    click.echo(STATUS_HEADER)
    for s in states:
        click.echo(state_line(s, names))


@budgets.command("delete")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.argument("budget_id", type=int)
def budgets_delete(db: str, org: str, actor: str | None, budget_id: int) -> None:
    """Delete a budget (admin)."""
    a = acting(db, org, actor)
    try:
        a.actor.require_admin("delete budgets")
        with a.engine.begin() as conn:
            budget = get_budget(conn, budget_id)
            if budget is None or budget.org_id != a.org.id:
                raise click.ClickException(f"no budget {budget_id} in org {a.org.name}")
            delete_budget(conn, budget, a.actor.name, a.org.name)
    except PermissionDenied as exc:
        raise fail(exc) from exc
    click.echo(f"deleted budget {budget_id}")


@budgets.command("status")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.option("--scope", default=None, help="Only this scope: user, user:alice, key:PREFIX ...")
@JSON_OPTION
def budgets_status(db: str, org: str, actor: str | None, scope: str | None, as_json: bool) -> None:
    """Spent, limit, %, reset time, projection and status of every budget in force."""
    a = acting(db, org, actor)
    with a.engine.connect() as conn:
        states = visible(conn, a.actor, status_states(conn, a.org, datetime.now(UTC)))
        names = names_for(conn, [], states)
    if scope:
        kind, name = parse_scope(scope)
        states = [
            s
            for s in states
            if s.budget.scope == kind and (name is None or names.get((kind, s.subject_id)) == name)
        ]
    if as_json:
        click.echo(json.dumps([state_json(s, names) for s in states], indent=2))
        return
    if not states:
        click.echo("No budget applies yet (defaults show once their subjects spend).")
        return
    click.echo(STATUS_HEADER)
    for s in states:
        click.echo(state_line(s, names))
    click.echo(f"(* = from a default; windows in {a.org.timezone})")


@budgets.command("timezone")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.argument("zone", required=False)
def budgets_timezone(db: str, org: str, actor: str | None, zone: str | None) -> None:
    """Show or set (admin) the IANA time zone the org's budget windows are cut in."""
    a = acting(db, org, actor)
    if zone is None:
        click.echo(a.org.timezone)
        return
    try:
        org_zone(zone)
        a.actor.require_admin("change the org's time zone")
        with a.engine.begin() as conn:
            set_org_timezone(conn, a.org, zone, a.actor.name)
    except (ValueError, PermissionDenied) as exc:
        raise fail(exc) from exc
    click.echo(f"{a.org.name}: budget windows now follow {zone}")
