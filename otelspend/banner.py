"""What `otelspend serve` prints once it listens: endpoints and paste-ready agent settings."""

from __future__ import annotations

from otelspend.cli_gateway import gateway_urls


def banner(
    *,
    db: str,
    host: str,
    grpc_port: int,
    http_port: int,
    key: str | None,
    no_auth: bool,
    ui_url: str | None = None,
    gateway_url: str | None = None,
) -> str:
    """Render the start-up text (the key appears here once and nowhere else)."""
    http = f"http://{host}:{http_port}"
    lines = [
        "otelspend is running",
        f"  store      {db}",
        f"  OTLP/gRPC  http://{host}:{grpc_port}",
        f"  OTLP/HTTP  {http}   (POST /v1/traces /v1/logs /v1/metrics, GET /health)",
        *([f"  UI         {ui_url}"] if ui_url else []),
        *(gateway_urls(gateway_url) if gateway_url else []),
        "",
    ]
    if no_auth:
        lines += [
            "!! --no-auth: ANY client that can reach these ports can write spend data.",
            "!! Everything without a valid key is attributed to org 'default', workspace",
            "!! 'default', user taken from the telemetry (else 'unattributed').",
            "",
        ]
    auth_header = f"Authorization=Bearer {key}" if key else ""
    if key:
        lines += [f"Ingest key (shown once, stored hashed): {key}", ""]
    lines += [
        "Any OpenTelemetry SDK / agent:",
        f"  export OTEL_EXPORTER_OTLP_ENDPOINT={http}",
        "  export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
    ]
    if auth_header:
        lines.append(f'  export OTEL_EXPORTER_OTLP_HEADERS="{auth_header}"')
    lines += [
        "Claude Code (same shell, then run `claude`):",
        "  export CLAUDE_CODE_ENABLE_TELEMETRY=1 OTEL_LOGS_EXPORTER=otlp "
        "OTEL_METRICS_EXPORTER=otlp OTEL_TRACES_EXPORTER=otlp",
        "Codex (~/.codex/config.toml):",
        "  [otel]",
        _codex_line("exporter", f"{http}/v1/logs", key),
        _codex_line("trace_exporter", f"{http}/v1/traces", key),
        "",
        "Then: otelspend spend --by user --since 1h",
    ]
    return "\n".join(lines)


def _codex_line(name: str, endpoint: str, key: str | None) -> str:
    headers = f', headers = {{ "Authorization" = "Bearer {key}" }}' if key else ""
    return (
        f'  {name} = {{ otlp-http = {{ endpoint = "{endpoint}", protocol = "binary"{headers} }} }}'
    )
