"""`otelspend requests ...`: file, list, approve and deny budget-increase requests."""

from __future__ import annotations

import json
from typing import Any

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
    parse_until,
    parse_usd,
    to_json,
)
from otelspend.money import usd_str
from store.budget_requests import (
    STATUSES,
    BudgetRequest,
    RequestError,
    create_request,
    decide_request,
    list_requests,
)
from store.budgets import get_budget
from store.members import PermissionDenied
from store.subjects import resolve_subject, subject_names


@click.group()
@click.pass_context
def requests(ctx: click.Context) -> None:
    """Budget-increase requests: file (members), approve or deny (admins)."""
    group_defaults(ctx, requests)


def _request_json(r: BudgetRequest, subject: str) -> dict[str, Any]:
    return {**r.as_json(), "subject": subject, "amount_usd": usd_str(r.amount_nanousd)}


@requests.command("create")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.option("--budget", "budget_id", type=int, required=True, help="Budget id to raise.")
@click.option("--amount", required=True, help="Dollars to add per window, e.g. 25.")
@click.option("--until", required=True, help="Last day of the raise (inclusive), or 7d.")
@click.option("--reason", required=True, help="Why the raise is needed.")
@click.option("--trace", "traces", multiple=True, help="A trace id that justifies it (repeat).")
@click.option("--for", "subject", default=None, help="For a default budget: whose (default: you).")
@JSON_OPTION
def requests_create(
    db: str,
    org: str,
    actor: str | None,
    budget_id: int,
    amount: str,
    until: str,
    reason: str,
    traces: tuple[str, ...],
    subject: str | None,
    as_json: bool,
) -> None:
    """File a request to raise a budget until a date."""
    a = acting(db, org, actor)
    nano = parse_usd(amount)
    expires = parse_until(until, a.org.timezone)
    try:
        with a.engine.begin() as conn:
            budget = get_budget(conn, budget_id)
            if budget is None or budget.org_id != a.org.id:
                raise RequestError(f"no budget {budget_id} in org {a.org.name}")
            subject_id = budget.scope_id
            if budget.is_default:
                name = subject or _own_name(a.actor.name, budget.scope)
                subject_id = resolve_subject(conn, a.org.id, budget.scope, name)
            req = create_request(
                conn, a.org, a.actor, budget, subject_id, nano, expires, reason, traces
            )
            who = subject_names(conn, budget.scope, [subject_id]).get(subject_id, "")
    except (RequestError, PermissionDenied, LookupError) as exc:
        raise fail(exc) from exc
    if as_json:
        click.echo(json.dumps(_request_json(req, who), default=to_json, indent=2))
        return
    click.echo(
        f"request {req.id}: +{usd_str(nano)} on budget {budget_id} ({budget.scope}:{who}) until "
        f"{local_time(expires, a.org.timezone)} — pending an admin's decision"
    )


def _own_name(actor: str, scope: str) -> str:
    if scope != "user":
        raise RequestError(f"budget is a {scope} default: say whose with --for NAME")
    return actor


@requests.command("list")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.option("--status", type=click.Choice([*STATUSES, "all"]), default="all", show_default=True)
@JSON_OPTION
def requests_list(db: str, org: str, actor: str | None, status: str, as_json: bool) -> None:
    """List requests (members see their own)."""
    a = acting(db, org, actor)
    mine = None if a.actor.is_admin else a.actor.name
    with a.engine.connect() as conn:
        rows = list_requests(
            conn, a.org.id, status=None if status == "all" else status, requested_by=mine
        )
        budgets = {r.budget_id: get_budget(conn, r.budget_id) for r in rows}
        who = {
            r.id: subject_names(conn, b.scope, [r.subject_id]).get(r.subject_id, "")
            for r in rows
            if (b := budgets[r.budget_id]) is not None
        }
    if as_json:
        click.echo(
            json.dumps(
                [_request_json(r, who.get(r.id, "")) for r in rows], default=to_json, indent=2
            )
        )
        return
    click.echo(
        f"{'id':>4} {'status':<9} {'budget':>6} {'for':<16} {'amount':>10} "
        f"{'until':<22} {'by':<12} reason"
    )
    for r in rows:
        click.echo(
            f"{r.id:>4} {r.status:<9} {r.budget_id:>6} {who.get(r.id, '')[:16]:<16} "
            f"{usd_str(r.amount_nanousd)[:-4]:>10} {local_time(r.until, a.org.timezone):<22} "
            f"{r.requested_by[:12]:<12} {r.reason}"
            + (f"  [{r.decided_by}: {r.decision_note}]" if r.decided_by else "")
        )


def _decide(db: str, org: str, actor: str | None, request_id: int, note: str, ok: bool) -> None:
    a = acting(db, org, actor)
    try:
        req = decide_request(a.engine, a.org, a.actor, request_id, ok, note)
    except (RequestError, PermissionDenied) as exc:
        raise fail(exc) from exc
    effect = (
        f"budget {req.budget_id} raised by {usd_str(req.amount_nanousd)} until "
        f"{local_time(req.until, a.org.timezone)}"
        if ok
        else "no change to the budget"
    )
    click.echo(f"request {req.id} {req.status} by {a.actor.name}: {effect}")


@requests.command("approve")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.argument("request_id", type=int)
@click.option("--note", default="", help="Shown to the requester and kept in the audit log.")
def requests_approve(db: str, org: str, actor: str | None, request_id: int, note: str) -> None:
    """Approve a request (admin, not the requester): the raise applies at once."""
    _decide(db, org, actor, request_id, note, True)


@requests.command("deny")
@DB_OPTION
@ORG_OPTION
@ACTOR_OPTION
@click.argument("request_id", type=int)
@click.option("--note", default="", help="Shown to the requester and kept in the audit log.")
def requests_deny(db: str, org: str, actor: str | None, request_id: int, note: str) -> None:
    """Deny a request (admin)."""
    _decide(db, org, actor, request_id, note, False)
