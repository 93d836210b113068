"""`otelspend gateway`: the budget-enforcing OpenAI/Anthropic/Gemini proxy on its own."""

from __future__ import annotations

import asyncio
import logging

import click

from gateway.config import DEFAULT_HOST, DEFAULT_PORT, GatewayConfig, load_config
from store.engine import DEFAULT_DB_URL


def gateway_urls(url: str) -> list[str]:
    """The banner lines: where each client points its base URL."""
    return [
        f"  Gateway    {url}   (GET /metrics)",
        f"    Claude Code  ANTHROPIC_BASE_URL={url}/anthropic  ANTHROPIC_API_KEY=<otelspend key>",
        f"    Codex/OpenAI OPENAI_BASE_URL={url}/openai/v1  OPENAI_API_KEY=<otelspend key>",
        f"    Gemini CLI   GOOGLE_GEMINI_BASE_URL={url}/gemini  GEMINI_API_KEY=<otelspend key>",
    ]


def build_config(
    gateway_config: str | None, host: str | None, port: int | None, **upstreams: str | None
) -> GatewayConfig:
    """Flags over environment over the gateway file; click.BadParameter on a bad value."""
    try:
        return load_config(
            gateway_config,
            host=host,
            port=port,
            upstreams={k.removeprefix("upstream_"): v for k, v in upstreams.items()},
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("gateway")
@click.option(
    "--db",
    envvar="OTELSPEND_DB",
    default=DEFAULT_DB_URL,
    show_default=True,
    help="Database URL or file path (share one PostgreSQL between replicas).",
)
@click.option("--host", envvar="OTELSPEND_GATEWAY_HOST", default=DEFAULT_HOST, show_default=True)
@click.option(
    "--port", envvar="OTELSPEND_GATEWAY_PORT", type=int, default=DEFAULT_PORT, show_default=True
)
@click.option(
    "--upstream-anthropic",
    envvar="OTELSPEND_UPSTREAM_ANTHROPIC",
    help="Anthropic API base URL [default: https://api.anthropic.com].",
)
@click.option(
    "--upstream-openai",
    envvar="OTELSPEND_UPSTREAM_OPENAI",
    help="OpenAI API base URL [default: https://api.openai.com].",
)
@click.option(
    "--upstream-gemini",
    envvar="OTELSPEND_UPSTREAM_GEMINI",
    help="Gemini API base URL [default: https://generativelanguage.googleapis.com].",
)
@click.option(
    "--gateway-config",
    envvar="OTELSPEND_GATEWAY_CONFIG",
    help="TOML file: provider credentials (per workspace too), per-call caps, cache.",
)
@click.option(
    "--log-level",
    envvar="OTELSPEND_LOG_LEVEL",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
def gateway(
    db: str,
    host: str,
    port: int,
    upstream_anthropic: str | None,
    upstream_openai: str | None,
    upstream_gemini: str | None,
    gateway_config: str | None,
    log_level: str,
) -> None:
    """Proxy model calls, enforcing hard budgets before each call (a replica of serve's)."""
    from gateway.standalone import run_standalone

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    cfg = build_config(
        gateway_config, host, port, upstream_anthropic=upstream_anthropic,
        upstream_openai=upstream_openai, upstream_gemini=upstream_gemini,
    )  # fmt: skip

    def on_ready(running: object) -> None:
        url = getattr(running, "url", "")
        click.echo("\n".join(["otelspend gateway is running", f"  store      {db}",
                              *gateway_urls(url)]), nl=True)  # fmt: skip

    asyncio.run(run_standalone(db, cfg, on_ready))
