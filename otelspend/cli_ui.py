"""`otelspend ui` (the Streamlit UI) and `otelspend demo` (a realistic company's traffic)."""

from __future__ import annotations

import signal
import sys

import click
from sqlalchemy import func, select

from otelspend.ui_process import UiProcess, check_access, ui_environment
from store.engine import DEFAULT_DB_URL, make_engine
from store.migrate import upgrade
from store.subjects import ORGS
from store.tables import LlmCallRow
from ui.settings import DEFAULT_OTLP_GRPC, DEFAULT_OTLP_HTTP, DEFAULT_UI_PORT

_DB = click.option(
    "--db",
    envvar="OTELSPEND_DB",
    default=DEFAULT_DB_URL,
    show_default=True,
    help="Database URL or a file path.",
)


@click.command("ui")
@_DB
@click.option(
    "--host",
    envvar="OTELSPEND_UI_HOST",
    default="127.0.0.1",
    show_default=True,
    help="Bind address; anything but loopback requires sign-in (OIDC or [ui] password).",
)
@click.option(
    "--port", envvar="OTELSPEND_UI_PORT", type=int, default=DEFAULT_UI_PORT, show_default=True
)  # noqa: E501
@click.option(
    "--as",
    "actor",
    envvar="OTELSPEND_ACTOR",
    default=None,
    help="On loopback, act as this member (default: the login name, as the CLI).",
)
@click.option("--org", envvar="OTELSPEND_ORG", default=None, help="Org shown first.")
@click.option(
    "--otlp-http",
    default=DEFAULT_OTLP_HTTP,
    show_default=True,
    help="Receiver URL the UI tells agents to export to.",
)
@click.option("--otlp-grpc", default=DEFAULT_OTLP_GRPC, show_default=True)
def ui(
    db: str,
    host: str,
    port: int,
    actor: str | None,
    org: str | None,
    otlp_http: str,
    otlp_grpc: str,
) -> None:
    """Run the web UI (Streamlit) on the store until interrupted."""
    upgrade(make_engine(db))
    env = ui_environment(db, host, otlp_http=otlp_http, otlp_grpc=otlp_grpc, actor=actor, org=org)
    try:
        check_access(host, env)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    proc = UiProcess.start(host, port, env, quiet=True)
    if not proc.wait_ready():
        proc.stop()
        raise click.ClickException(f"the UI did not start on {host}:{port} (port in use?)")
    click.echo(f"otelspend UI: {proc.url}  (store {db}; Ctrl-C stops it)")
    sys.stdout.flush()
    # SIGTERM must unwind through `finally` too, or the Streamlit child outlives us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        code = proc.proc.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        proc.stop()
    if code:
        raise SystemExit(code)


@click.command("demo")
@_DB
@click.option("--days", type=click.IntRange(1, 400), default=30, show_default=True)
@click.option("--users", type=click.IntRange(3, 2000), default=40, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same company.")
def demo(db: str, days: int, users: int, seed: int) -> None:
    """Load a realistic company (org 'acme') through the real OTLP ingest path."""
    from otelspend.demo import DemoSpec, run_demo
    from otelspend.demo_company import ORG

    engine = make_engine(db)
    upgrade(engine)
    with engine.connect() as conn:
        if conn.execute(select(ORGS.c.id).where(ORGS.c.name == ORG)).first() is not None:
            raise click.ClickException(f"org {ORG!r} already exists in {db}: use an empty store")
    engine.dispose()
    with click.progressbar(length=days + 1, label=f"demo: {users} people, {days} days") as bar:
        done = [0]

        def step(n: int, _total: int) -> None:
            bar.update(n - done[0])
            done[0] = n

        result = run_demo(db, DemoSpec(days=days, users=users, seed=seed), step)
    click.echo(
        f"sent {result.spans:,} spans and {result.logs:,} log events in {result.requests:,} "
        f"OTLP requests to org {ORG!r}; open the UI with `otelspend ui --db {db}`"
    )


def store_is_empty(db: str) -> bool:
    """No model call stored yet (`make run` offers the demo then)."""
    engine = make_engine(db)
    upgrade(engine)
    with engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(LlmCallRow)).scalar()


@click.command("store-empty", hidden=True)
@_DB
def store_empty(db: str) -> None:
    """Exit 0 when the store holds no model call (used by `make run`)."""
    raise SystemExit(0 if store_is_empty(db) else 1)
