"""`otelspend onboard` (config files for coding CLIs) and `otelspend hook` (their budget hook)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from otelspend.budget_hook import parse_args, run
from otelspend.onboard import (
    CLIENTS,
    DEFAULT_GATEWAY_URL,
    DEFAULT_HOOK_COMMAND,
    BundleFile,
    Identity,
    OnboardSpec,
    bundle_files,
)
from otelspend.onboard_bundle import bundle_dir_name, read_users, write_bundle
from store.engine import DEFAULT_DB_URL, make_engine
from store.identity import create_key, revoke_key
from store.migrate import upgrade

_HOOK_FAIL_CLOSED = " --fail-closed"


@click.command("onboard")
@click.argument("client", type=click.Choice(CLIENTS))
@click.option(
    "--server",
    required=True,
    help="otelspend OTLP/HTTP URL the CLI exports to, e.g. https://otelspend.example.com:4318.",
)
@click.option("--key", default=None, help="Write the files for this existing ingest key.")
@click.option(
    "--users",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV with columns user, email, workspace[, team]: one new key and bundle per user.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for the bundle(s) (with --key: default prints the files).",
)
@click.option("--db", envvar="OTELSPEND_DB", default=DEFAULT_DB_URL, show_default=True)
@click.option("--org", envvar="OTELSPEND_ORG", default="default", show_default=True)
@click.option(
    "--via-gateway", is_flag=True, help="Route the CLI's model calls through the gateway."
)
@click.option("--gateway-url", default=None, help=f"Gateway base URL [{DEFAULT_GATEWAY_URL}].")
@click.option("--hook-command", default=DEFAULT_HOOK_COMMAND, show_default=True)
@click.option("--no-hook", is_flag=True, help="Claude Code: no UserPromptSubmit budget hook.")
@click.option("--hook-fail-closed", is_flag=True, help="Block prompts when the check fails.")
def onboard(
    client: str,
    server: str,
    key: str | None,
    users: Path | None,
    out: Path | None,
    db: str,
    org: str,
    via_gateway: bool,
    gateway_url: str | None,
    hook_command: str,
    no_hook: bool,
    hook_fail_closed: bool,
) -> None:
    """Write the config files that point CLIENT (claude-code, codex, gemini) at otelspend.

    With --users, one key per user is created (stored hashed; it appears only in that user's
    bundle, whose files are readable by their owner only).  See INSTALL.txt in each bundle
    for where the files go on macOS, Linux and Windows.
    """
    if (key is None) == (users is None):
        raise click.UsageError("give exactly one of --key KEY or --users users.csv")
    if users is not None and out is None:
        raise click.UsageError("--users needs --out DIR (one bundle directory per user)")
    if gateway_url is not None and not via_gateway:
        raise click.UsageError("--gateway-url needs --via-gateway")
    command = hook_command + (_HOOK_FAIL_CLOSED if hook_fail_closed else "")
    gateway = (gateway_url or DEFAULT_GATEWAY_URL).rstrip("/")

    def spec_for(secret: str, who: Identity | None) -> OnboardSpec:
        fields = (client, server.rstrip("/"), secret, who, via_gateway, gateway, command)
        try:
            return OnboardSpec(*fields, hook=not no_hook)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from exc

    if key is not None:
        spec = spec_for(key, None)
        _single(spec, bundle_files(spec), out)
    else:
        assert users is not None and out is not None
        _per_user(users, out, db, org, client, spec_for)


def _single(spec: OnboardSpec, files: list[BundleFile], out: Path | None) -> None:
    """--key: write one bundle, or print the files when no --out is given."""
    if out is None:
        for f in files:
            if len(files) > 1:
                click.echo(f"# ==> {f.name} <==")
            click.echo(f.content, nl=False)
        return
    try:
        written = write_bundle(out, spec, files)
    except FileExistsError as exc:
        raise click.ClickException(f"{exc.filename} exists; refusing to overwrite it") from exc
    for path in written:
        click.echo(str(path))


def _per_user(
    users: Path,
    out: Path,
    db: str,
    org: str,
    client: str,
    spec_for: Callable[[str, Identity | None], OnboardSpec],
) -> None:
    """--users: a key and a bundle per user; nothing is created when a bundle would clash."""

    try:
        identities = read_users(users)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    dirs = [out / bundle_dir_name(i.user) for i in identities]
    if len(set(dirs)) != len(dirs):
        raise click.ClickException("two users map to the same bundle directory name")
    clashes = [str(d) for d in dirs if d.exists() and any(d.iterdir())]
    if clashes:
        raise click.ClickException(f"bundle directories already exist: {', '.join(clashes[:5])}")
    engine = make_engine(db)
    upgrade(engine)
    click.echo(f"{'user':<24} {'workspace':<16} {'key prefix':<14} bundle")
    for who in identities:
        token, info = create_key(
            engine, org=org, workspace=who.workspace, user=who.user, label=f"onboard {client}"
        )
        spec = spec_for(token, who)
        directory = out / bundle_dir_name(who.user)
        try:
            write_bundle(directory, spec, bundle_files(spec))
        except OSError as exc:
            revoke_key(engine, info.prefix)  # never leave a key nobody received
            raise click.ClickException(f"cannot write {directory}: {exc}; key revoked") from exc
        click.echo(f"{who.user:<24} {who.workspace:<16} {info.prefix:<14} {directory}")
    click.echo(
        f"{len(identities)} keys created (stored hashed; each appears only in its bundle). "
        "Deliver each bundle to its user, then delete it.",
        err=True,
    )


@click.group("hook")
def hook() -> None:
    """Hooks the coding CLIs run (installed by `otelspend onboard`)."""


@hook.command("claude-code")
@click.option(
    "--url",
    default=None,
    help="Budget check URL [$OTELSPEND_BUDGET_URL, else from $OTEL_EXPORTER_OTLP_ENDPOINT].",
)
@click.option(
    "--key", default=None, help="Ingest key [$OTELSPEND_KEY, else $OTEL_EXPORTER_OTLP_HEADERS]."
)
@click.option(
    "--fail-closed",
    is_flag=True,
    help="Block the prompt when the check fails [$OTELSPEND_HOOK_FAIL_CLOSED].",
)
@click.option("--timeout", type=float, default=None, help="Seconds to wait for the server [3].")
def hook_claude_code(
    url: str | None, key: str | None, fail_closed: bool, timeout: float | None
) -> None:
    """UserPromptSubmit hook: block the prompt when a hard budget is used up.

    Reads the hook JSON on stdin; exit 0 allows, exit 2 blocks (the reason goes to stderr).
    """
    argv = [*(["--url", url] if url else []), *(["--key", key] if key else [])]
    argv += ["--fail-closed"] if fail_closed else []
    argv += ["--timeout", str(timeout)] if timeout is not None else []
    options = parse_args(argv, os.environ)
    if options is None:
        raise click.UsageError("invalid hook options")
    sys.exit(run(options, sys.stdin, sys.stdout, sys.stderr))
