"""`otelspend alerts|audit|members ...`: what was raised, who changed what, who may act."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import click

from collector_processor.budgets.alerts import local_time
from otelspend.actor import (
    ACTOR_OPTION,
    DB_OPTION,
    JSON_OPTION,
    ORG_OPTION,
    acting,
    fail,
    group_defaults,
    to_json,
)
from otelspend.timeparse import parse_since
from store.alerts import ALERT_KINDS, Alert, list_alerts
from store.audit import list_audit
from store.members import ROLES, PermissionDenied, add_member, list_members, remove_member


@click.group()
@click.pass_context
def alerts(ctx: click.Context) -> None:
    """Alerts raised: thresholds, projections, runaways, unpriced models."""
    group_defaults(ctx, alerts)


def _delivery_text(alert: Alert) -> str:
    if not alert.deliveries:
        return "-"
    parts = []
    for d in alert.deliveries:
        err = f" ({d.last_error[:60]})" if d.status != "delivered" and d.last_error else ""
        parts.append(f"{d.status}x{d.attempts}{err}")
    return ", ".join(parts)


@alerts.command("list")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.option("--kind", type=click.Choice(ALERT_KINDS), default=None)
@click.option("--since", default="7d", show_default=True, help="30m, 1h, 2d or a date.")
@click.option("--limit", "limit", type=int, default=100, show_default=True)
@JSON_OPTION
def alerts_list(
    db: str,
    org: str,
    actor: str | None,
    kind: str | None,
    since: str,
    limit: int,
    as_json: bool,
) -> None:
    """Alerts, newest first, with their webhook delivery state (members: their own)."""
    a = acting(db, org, actor)
    try:
        since_at = parse_since(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    user = None if a.actor.is_admin else (a.actor.user_id or -1)
    rows = list_alerts(
        a.engine, org_id=a.org.id, kind=kind, since=since_at, user_id=user, limit=limit
    )
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], default=to_json, indent=2))
        return
    if not rows:
        click.echo(f"No alerts since {since}.")
        return
    for r in rows:
        created = local_time(r.created_at or datetime.now(UTC), a.org.timezone)
        click.echo(f"#{r.id} {created} {r.kind}: {r.message}")
        click.echo(f"    delivery: {_delivery_text(r)}" + (f"  link: {r.link}" if r.link else ""))


@click.group()
@click.pass_context
def audit(ctx: click.Context) -> None:
    """The audit log: who changed what, when, before/after."""
    group_defaults(ctx, audit)


@audit.command("list")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.option("--entity", default="", help="e.g. budget/12 or request/3.")
@click.option("--who", default=None, help="Only changes by this actor.")
@click.option("--limit", "limit", type=int, default=100, show_default=True)
@JSON_OPTION
def audit_list(
    db: str,
    org: str,
    actor: str | None,
    entity: str,
    who: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Audit entries of the org, newest first (admin)."""
    a = acting(db, org, actor)
    try:
        a.actor.require_admin("read the audit log")
    except PermissionDenied as exc:
        raise fail(exc) from exc
    rows = list_audit(a.engine, entity_prefix=f"{a.org.name}/{entity}", actor=who, limit=limit)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], default=to_json, indent=2))
        return
    for r in rows:
        click.echo(f"{local_time(r.at, a.org.timezone)} {r.actor:<12} {r.action:<22} {r.entity}")
        if r.before is not None:
            click.echo(f"    before: {json.dumps(r.before, default=str, sort_keys=True)}")
        if r.after is not None:
            click.echo(f"    after:  {json.dumps(r.after, default=str, sort_keys=True)}")


@click.group()
@click.pass_context
def members(ctx: click.Context) -> None:
    """Who may act: admins set budgets and decide requests; members file requests."""
    group_defaults(ctx, members)


@members.command("add")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--user", "user_name", default="", help="Their user name in spend (default: NAME).")
def members_add(db: str, org: str, actor: str | None, name: str, role: str, user_name: str) -> None:
    """Add a member or change their role (admin)."""
    a = acting(db, org, actor)
    try:
        with a.engine.begin() as conn:
            add_member(conn, a.org, a.actor, name, role, user_name)
    except (PermissionDenied, ValueError) as exc:
        raise fail(exc) from exc
    click.echo(f"{name} is now {role} of {a.org.name}")


@members.command("remove")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.argument("name")
def members_remove(db: str, org: str, actor: str | None, name: str) -> None:
    """Remove a member (admin; never the last admin)."""
    a = acting(db, org, actor)
    try:
        with a.engine.begin() as conn:
            removed = remove_member(conn, a.org, a.actor, name)
    except PermissionDenied as exc:
        raise fail(exc) from exc
    if not removed:
        raise click.ClickException(f"{name} is not a member of {a.org.name}")
    click.echo(f"removed {name} from {a.org.name}")


@members.command("list")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@JSON_OPTION
def members_list(db: str, org: str, actor: str | None, as_json: bool) -> None:
    """List members and roles."""
    a = acting(db, org, actor)
    with a.engine.connect() as conn:
        rows = list_members(conn, a.org.id)
    if as_json:
        click.echo(json.dumps([asdict(m) for m in rows], indent=2))
        return
    for m in rows:
        click.echo(f"{m.name:<20} {m.role:<7} user={m.user_name}  (added by {m.created_by})")
