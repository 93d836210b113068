"""The `otelspend` command line: thin wrappers over store queries and the server."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
from typing import Any

import click

from collector_processor.budgets.alerts import DEFAULT_UI_URL
from otelspend.banner import banner
from otelspend.cli_alerts import alerts, audit, members
from otelspend.cli_budgets import budgets
from otelspend.cli_evals import eval_group, reconcile_group
from otelspend.cli_gateway import build_config, gateway
from otelspend.cli_onboard import hook, onboard
from otelspend.cli_prices import prices
from otelspend.cli_requests import requests
from otelspend.cli_ui import demo, store_empty, ui
from otelspend.config import load_default_map
from otelspend.money import usd_str
from otelspend.timeparse import parse_since, to_ns
from store.engine import DEFAULT_DB_URL, make_engine
from store.identity import create_key, list_keys, revoke_key
from store.migrate import upgrade
from store.queries import SPEND_GROUPINGS, spend_by

_DB_OPTION = click.option(
    "--db",
    envvar="OTELSPEND_DB",
    default=DEFAULT_DB_URL,
    show_default=True,
    help="Database URL (sqlite:///path or postgresql+psycopg://user@host/db) or a file path.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    envvar="OTELSPEND_CONFIG",
    type=click.Path(dir_okay=False),
    help="TOML config file (default: ./otelspend.toml when present).",
)
@click.version_option(package_name="otelspend")
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """otelspend: real-time spend control for coding agents."""
    try:
        ctx.default_map = load_default_map(config)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def _open_store(db: str) -> Any:
    engine = make_engine(db)
    upgrade(engine)
    return engine


@main.command()
@_DB_OPTION
@click.option("--host", envvar="OTELSPEND_HOST", default="127.0.0.1", show_default=True)
@click.option(
    "--otlp-grpc-port", envvar="OTELSPEND_OTLP_GRPC_PORT", type=int, default=4317, show_default=True
)
@click.option(
    "--otlp-http-port", envvar="OTELSPEND_OTLP_HTTP_PORT", type=int, default=4318, show_default=True
)
@click.option(
    "--no-auth",
    envvar="OTELSPEND_NO_AUTH",
    is_flag=True,
    help="Accept data without a key (local use only; says so loudly).",
)
@click.option("--no-ui", envvar="OTELSPEND_NO_UI", is_flag=True, help="Do not start the UI.")
@click.option("--ui-port", envvar="OTELSPEND_UI_PORT", type=int, default=8501, show_default=True)
@click.option(
    "--no-gateway", envvar="OTELSPEND_NO_GATEWAY", is_flag=True, help="Do not start the gateway."
)
@click.option(
    "--gateway-port", envvar="OTELSPEND_GATEWAY_PORT", type=int, default=8787, show_default=True
)
@click.option(
    "--gateway-config", envvar="OTELSPEND_GATEWAY_CONFIG", help="Gateway TOML (credentials, caps)."
)
@click.option(
    "--max-body-bytes",
    envvar="OTELSPEND_MAX_BODY_BYTES",
    type=int,
    default=20 * 1024 * 1024,
    show_default=True,
    help="Largest OTLP request body.",
)
@click.option(
    "--queue-batches",
    envvar="OTELSPEND_QUEUE_BATCHES",
    type=int,
    default=64,
    show_default=True,
    help="Write-queue bound; beyond it clients get 429 + Retry-After.",
)
@click.option(
    "--decode-workers",
    envvar="OTELSPEND_DECODE_WORKERS",
    type=click.IntRange(min=0),
    default=None,
    help="Processes that decode and normalize OTLP bodies [default: one per CPU; "
    "0 = decode in the serving process].",
)
@click.option(
    "--key/--no-key",
    "make_key",
    envvar="OTELSPEND_MAKE_KEY",
    default=True,
    show_default=True,
    help="Create and print a fresh ingest key at start-up.",
)
@click.option(
    "--log-level",
    envvar="OTELSPEND_LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
@click.option(
    "--webhook",
    "webhooks",
    multiple=True,
    envvar="OTELSPEND_WEBHOOKS",
    help="POST alerts here (Slack-compatible JSON); repeat, or space-separate in the env var.",
)
@click.option(
    "--ui-url",
    envvar="OTELSPEND_UI_URL",
    default=DEFAULT_UI_URL,
    show_default=True,
    help="Base URL of the UI that alert links point to.",
)
def serve(
    db: str,
    host: str,
    otlp_grpc_port: int,
    otlp_http_port: int,
    no_auth: bool,
    no_ui: bool,
    ui_port: int,
    no_gateway: bool,
    gateway_port: int,
    gateway_config: str | None,
    max_body_bytes: int,
    queue_batches: int,
    decode_workers: int | None,
    make_key: bool,
    log_level: str,
    webhooks: tuple[str, ...],
    ui_url: str,
) -> None:
    """Run the OTLP receivers (gRPC and HTTP) on the store."""
    from collector_processor.budgets.control import AlertingConfig
    from otelspend.server import ServeConfig, serve_forever

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if log_level.lower() != "debug":  # one line per migration step is noise at start-up
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        cfg = ServeConfig(
            db=db,
            host=host,
            otlp_grpc_port=otlp_grpc_port,
            otlp_http_port=otlp_http_port,
            no_auth=no_auth,
            max_body_bytes=max_body_bytes,
            queue_batches=queue_batches,
            **({} if decode_workers is None else {"decode_workers": decode_workers}),
            alerting=AlertingConfig(webhooks=webhooks, ui_url=ui_url),
            gateway=None if no_gateway else build_config(gateway_config, host, gateway_port),
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    uis: list[Any] = []  # the UI subprocess, started once the receivers listen

    def on_ready(running: Any) -> None:
        if not no_ui:
            from otelspend.ui_process import start_for_serve

            uis.append(start_for_serve(db, host, ui_port, running.http_port, running.grpc_port))
        token = None
        if make_key:
            token, _ = create_key(
                running.engine,
                org="default",
                workspace="default",
                user=getpass.getuser() or "local",
                label="created by serve",
            )
        click.echo(
            banner(
                db=db,
                host=host,
                grpc_port=running.grpc_port,
                http_port=running.http_port,
                key=token,
                no_auth=no_auth,
                ui_url=uis[0].url if uis and uis[0] else None,
                gateway_url=running.gateway.url if running.gateway else None,
            ),
            err=False,
        )
        sys.stdout.flush()

    try:
        asyncio.run(serve_forever(cfg, on_ready))
    except OSError as exc:
        raise click.ClickException(f"cannot listen: {exc}") from exc
    finally:
        for proc in filter(None, uis):
            proc.stop()


@main.command()
@_DB_OPTION
@click.option("--by", "by", type=click.Choice(SPEND_GROUPINGS), default="user", show_default=True)
@click.option(
    "--since",
    default="24h",
    show_default=True,
    help="Duration back from now (30m, 1h, 2d, 1w) or a date/time.",
)
@click.option("--org", default=None, help="Only this org.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group.")
def spend(db: str, by: str, since: str, org: str | None, as_json: bool) -> None:
    """Show billed spend grouped by user, key, workspace, agent or model."""
    try:
        since_ns = to_ns(parse_since(since))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    rows = spend_by(_open_store(db), by, since_ns=since_ns, org=org)
    if as_json:
        click.echo(json.dumps([_spend_json(by, r) for r in rows], indent=2))
        return
    if not rows:
        click.echo(f"No spend since {since}. Is an agent exporting to `otelspend serve`?")
        return
    header = (
        f"{by:<32} {'calls':>7} {'cost_usd':>12} {'input':>10} {'cache_rd':>10} "
        f"{'cache_wr':>10} {'output':>10} {'unpriced':>8}"
    )
    click.echo(header)
    for r in rows:
        click.echo(
            f"{r.group[:32]:<32} {r.calls:>7} {usd_str(r.cost_nanousd):>12} "
            f"{r.input_tokens:>10} {r.cache_read_tokens:>10} {r.cache_write_tokens:>10} "
            f"{r.output_tokens:>10} {r.unpriced_calls:>8}"
        )
    total = sum(r.cost_nanousd for r in rows)
    click.echo(f"{'TOTAL':<32} {sum(r.calls for r in rows):>7} {usd_str(total):>12}")


def _spend_json(by: str, r: Any) -> dict[str, Any]:
    return {
        by: r.group,
        "calls": r.calls,
        "cost_usd": usd_str(r.cost_nanousd),
        "cost_nanousd": r.cost_nanousd,
        "input_tokens": r.input_tokens,
        "cache_read_tokens": r.cache_read_tokens,
        "cache_write_tokens": r.cache_write_tokens,
        "output_tokens": r.output_tokens,
        "reasoning_tokens": r.reasoning_tokens,
        "unpriced_calls": r.unpriced_calls,
    }


@main.group()
def keys() -> None:
    """Create, list and revoke ingest keys."""


@keys.command("create")
@_DB_OPTION
@click.option("--org", required=True)
@click.option("--workspace", required=True)
@click.option("--user", default=None, help="The person or agent the key belongs to.")
@click.option(
    "--trusted",
    is_flag=True,
    help="A shared sender (gateway, collector): telemetry user attributes pick the user.",
)
@click.option("--label", default="")
def keys_create(
    db: str, org: str, workspace: str, user: str | None, trusted: bool, label: str
) -> None:
    """Create a key; it is printed once and only its hash is stored."""
    if not user and not trusted:
        click.echo(
            "note: a key without --user and not --trusted attributes spend to 'unattributed'",
            err=True,
        )
    token, info = create_key(
        _open_store(db), org=org, workspace=workspace, user=user, trusted=trusted, label=label
    )
    click.echo(token)
    click.echo(
        f"prefix {info.prefix}: org={org} workspace={workspace} user={user or '-'} "
        f"trusted={trusted} (store this key now: it cannot be shown again)",
        err=True,
    )


@keys.command("list")
@_DB_OPTION
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@click.option("--json", "as_json", is_flag=True)
def keys_list(db: str, include_revoked: bool, as_json: bool) -> None:
    """List keys by prefix."""
    infos = list_keys(_open_store(db), include_revoked=include_revoked)
    if as_json:
        click.echo(json.dumps([_key_json(i) for i in infos], indent=2, default=str))
        return
    click.echo(f"{'prefix':<14} {'org':<12} {'workspace':<14} {'user':<20} trusted  created")
    for i in infos:
        state = f"  REVOKED {i.revoked_at:%Y-%m-%d}" if i.revoked_at else ""
        click.echo(
            f"{i.prefix:<14} {i.org:<12} {i.workspace:<14} {i.user or '-':<20} "
            f"{'yes' if i.trusted else 'no ':<7}  {i.created_at:%Y-%m-%d %H:%M}{state}"
        )


def _key_json(i: Any) -> dict[str, Any]:
    return {f: getattr(i, f) for f in i.__slots__}


@keys.command("revoke")
@_DB_OPTION
@click.argument("prefix")
def keys_revoke(db: str, prefix: str) -> None:
    """Revoke the key with PREFIX (takes effect within 5 s on running servers)."""
    if not revoke_key(_open_store(db), prefix):
        raise click.ClickException(
            f"no live key with prefix {prefix!r} (see `otelspend keys list`)"
        )
    click.echo(f"revoked {prefix}")


@main.command()
@_DB_OPTION
def migrate(db: str) -> None:
    """Create or upgrade the database schema (serve does this too)."""
    _open_store(db)
    click.echo("schema is current")


main.add_command(budgets)
main.add_command(alerts)
main.add_command(requests)
main.add_command(audit)
main.add_command(members)
main.add_command(prices)
main.add_command(eval_group)
main.add_command(reconcile_group)
main.add_command(onboard)
main.add_command(hook)
main.add_command(ui)
main.add_command(demo)
main.add_command(store_empty)
main.add_command(gateway)
