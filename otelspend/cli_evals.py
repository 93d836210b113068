"""`otelspend eval ...`: tag traces, list tags, spend by evaluation outcome, costliest traces.

`otelspend reconcile ...` lives in otelspend.cli_reconcile; both groups are exported here.
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from collector_processor.evaluations.rows import evaluation_row
from otelspend.cli_reconcile import (
    DB_OPTION,
    ORG_OPTION,
    open_store,
    org_id_for,
    reconcile_group,
    window,
)
from otelspend.money import usd_str
from semconv.evaluations import InvalidEvaluation, make_evaluation
from store.evaluation_queries import (
    LEVELS,
    OUTCOME_GROUPINGS,
    OutcomeFilter,
    costliest_traces,
    spend_by_outcome,
)
from store.evaluations import tag, trace_org, trace_tags

__all__ = ["eval_group", "reconcile_group"]

_SINCE = click.option("--since", default="7d", show_default=True, help="30m, 1h, 2d, 1w or a date.")
_UNTIL = click.option("--until", default=None, help="End of the window (default: now).")
_NAME = click.option("--name", default=None, help="Only evaluations with this name.")
_LEVEL = click.option(
    "--level",
    type=click.Choice(LEVELS),
    default="trace",
    show_default=True,
    help="trace: a tag on any span labels the whole trace; span: only the evaluated call.",
)
_THRESHOLD = click.option(
    "--pass-threshold",
    type=float,
    default=None,
    help="Score-only evaluations pass at score >= this (else they are 'unlabelled').",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


@click.group("eval")
def eval_group() -> None:
    """Evaluation tags on traces, and what passing and failing work costs."""


@eval_group.command("tag")
@DB_OPTION
@click.option("--trace", "trace_id", required=True, help="Trace id (32 hex characters).")
@click.option("--span", "span_id", default="", help="Span id (16 hex); omit to tag the trace.")
@click.option("--name", required=True, help="Evaluation name, e.g. correctness.")
@click.option("--score", type=float, default=None, help="Score value.")
@click.option("--label", default=None, help="Label, e.g. pass or fail.")
@click.option("--explanation", default=None, help="Why.")
@click.option("--source", default=None, help="Who evaluates [default: cli:<login name>].")
@ORG_OPTION
def eval_tag(
    db: str,
    trace_id: str,
    span_id: str,
    name: str,
    score: float | None,
    label: str | None,
    explanation: str | None,
    source: str | None,
    org: str | None,
) -> None:
    """Tag a trace or span; re-tagging (same name and source) replaces the tag."""
    if score is None and not label:
        raise click.UsageError("give --score or --label (or both)")
    engine = open_store(db)
    try:
        ev = make_evaluation(
            name=name,
            score=score,
            label=label,
            explanation=explanation,
            trace_id=trace_id,
            span_id=span_id,
            time_ns=time.time_ns(),
            source=source or f"cli:{getpass.getuser() or 'local'}",
        )
    except InvalidEvaluation as exc:
        raise click.BadParameter(str(exc)) from exc
    org_id = _org_for_trace(engine, ev.trace_id, org)
    tag(engine, [evaluation_row(ev, org_id, 0, time.time_ns())])
    what = f"span {ev.span_id} of trace {ev.trace_id}" if ev.span_id else f"trace {ev.trace_id}"
    result = ", ".join(x for x in (ev.label, "" if score is None else f"score {score:g}") if x)
    click.echo(f"tagged {what}: {ev.name} = {result} (source {ev.source})")


def _org_for_trace(engine: Any, trace_id: str, org: str | None) -> int:
    stored = trace_org(engine, trace_id)
    if stored is None:
        org_id = org_id_for(engine, org)
        click.echo(
            "note: no span of this trace is stored yet; the tag joins it when it lands", err=True
        )
        return org_id
    if org is not None and org_id_for(engine, org) != stored:
        raise click.BadParameter(f"trace {trace_id} belongs to another org", param_hint="--org")
    return stored


@eval_group.command("show")
@DB_OPTION
@click.option("--trace", "trace_id", required=True)
@ORG_OPTION
@_JSON
def eval_show(db: str, trace_id: str, org: str | None, as_json: bool) -> None:
    """List the tags of a trace and its spans, newest first."""
    engine = open_store(db)
    trace_id = trace_id.strip().lower()
    org_id = trace_org(engine, trace_id) if org is None else None
    tags = trace_tags(engine, org_id if org_id is not None else org_id_for(engine, org), trace_id)
    if as_json:
        click.echo(json.dumps([{f: getattr(t, f) for f in t.__slots__} for t in tags], indent=2))
        return
    if not tags:
        click.echo(f"No evaluation of trace {trace_id}.")
        return
    click.echo(f"{'span':<16}  {'name':<20} {'label':<12} {'score':>8}  source")
    for t in tags:
        score = "" if t.score is None else f"{t.score:g}"
        click.echo(
            f"{t.span_id or '(trace)':<16}  {t.name[:20]:<20} {t.label[:12]:<12} {score:>8}  "
            f"{t.source}"
        )
        if t.explanation:
            click.echo(f"{'':<18}{t.explanation[:200]}")


F = TypeVar("F", bound=Callable[..., Any])
_OUTCOME_OPTIONS = (DB_OPTION, _NAME, _SINCE, _UNTIL, _LEVEL, _THRESHOLD, ORG_OPTION, _JSON)


def _outcome_options(command: F) -> F:
    """The options every outcome query takes (window, name, level, threshold, org, json)."""
    for option in reversed(_OUTCOME_OPTIONS):
        command = option(command)
    return command


def _outcome_filter(opts: dict[str, Any]) -> tuple[Any, OutcomeFilter]:
    """(engine, filter) from the options of an outcome query."""
    engine = open_store(opts["db"])
    since_ns, until_ns = window(opts["since"], opts["until"])
    f = OutcomeFilter(
        org_id_for(engine, opts["org"]),
        since_ns,
        until_ns,
        name=opts["name"],
        level=opts["level"],
        pass_threshold=opts["pass_threshold"],
    )
    return engine, f


@eval_group.command("spend")
@click.option("--by", type=click.Choice(OUTCOME_GROUPINGS), default="none", show_default=True)
@click.option("--outcome", default=None, help="Only this outcome (e.g. fail).")
@_outcome_options
def eval_spend(by: str, outcome: str | None, **opts: Any) -> None:
    """Billed spend per evaluation outcome (pass, fail, ..., unevaluated), per group."""
    engine, f = _outcome_filter(opts)
    rows = spend_by_outcome(engine, f, by, outcome)
    if opts["as_json"]:
        click.echo(json.dumps([_outcome_json(by, r) for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"No billed spend since {opts['since']}.")
        return
    click.echo(
        f"{'outcome':<14} {by:<24} {'traces':>7} {'calls':>7} {'cost_usd':>12} {'per_trace':>12}"
    )
    for r in rows:
        per = r.cost_per_trace_nanousd
        click.echo(
            f"{r.outcome[:14]:<14} {r.group[:24]:<24} {r.traces:>7} {r.calls:>7} "
            f"{usd_str(r.cost_nanousd):>12} {'' if per is None else usd_str(per):>12}"
        )


def _outcome_json(by: str, r: Any) -> dict[str, Any]:
    per = r.cost_per_trace_nanousd
    out = {"outcome": r.outcome, **({by: r.group} if by != "none" else {})}
    return {
        **out,
        "traces": r.traces,
        "calls": r.calls,
        "cost_usd": usd_str(r.cost_nanousd),
        "cost_nanousd": r.cost_nanousd,
        "cost_per_trace_usd": None if per is None else usd_str(per),
        "cost_per_trace_nanousd": per,
        "unpriced_calls": r.unpriced_calls,
    }


@eval_group.command("traces")
@click.option("--outcome", default="fail", show_default=True)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@_outcome_options
def eval_traces(outcome: str, limit: int, **opts: Any) -> None:
    """The costliest traces with an outcome (default: the costliest failing traces)."""
    engine, f = _outcome_filter(opts)
    rows = costliest_traces(engine, f, outcome, limit)
    if opts["as_json"]:
        click.echo(json.dumps([_trace_json(r) for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"No {outcome} trace since {opts['since']}.")
        return
    header = f"{'trace':<32} {'cost_usd':>12} {'calls':>6}  {'evaluation':<16}"
    click.echo(header + " agents / users / models")
    for r in rows:
        who = " / ".join(",".join(x) for x in (r.agents, r.users, r.models))
        click.echo(
            f"{r.trace_id:<32} {usd_str(r.cost_nanousd):>12} {r.calls:>6}  "
            f"{r.evaluation[:16]:<16} {who}"
        )


def _trace_json(r: Any) -> dict[str, Any]:
    out = {f: getattr(r, f) for f in r.__slots__}
    out["cost_usd"] = usd_str(r.cost_nanousd)
    for f in ("agents", "users", "models"):
        out[f] = list(out[f])
    return out
