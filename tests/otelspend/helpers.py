"""Small clients for end-to-end tests: raw OTLP posts and the `otelspend` CLI."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from decimal import Decimal
from typing import Any

import grpc
from click.testing import CliRunner

from otelspend.cli import main
from tests.fixture_paths import REAL_CLIENTS

FIXTURES = REAL_CLIENTS

CONTENT_TYPES = {"pb": "application/x-protobuf", "json": "application/json"}
GRPC_METHODS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
}


def post(
    endpoint: str,
    signal: str,
    body: bytes,
    *,
    key: str | None,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """POST an OTLP body; return (status, response body) for any status."""
    req = urllib.request.Request(f"{endpoint}/v1/{signal}", data=body, method="POST")
    req.add_header("Content-Type", content_type)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def post_fixture(endpoint: str, client: str, signal: str, fmt: str, key: str) -> int:
    """POST one real-client fixture file; return the HTTP status."""
    body = (FIXTURES / client / f"{signal}.otlp.{fmt}").read_bytes()
    status, _ = post(endpoint, signal, body, key=key, content_type=CONTENT_TYPES[fmt])
    return status


def grpc_export(port: int, signal: str, body: bytes, key: str | None) -> bytes:
    """Send raw Export request bytes over gRPC; raises grpc.RpcError on failure."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(GRPC_METHODS[signal])
        metadata = (("authorization", f"Bearer {key}"),) if key else ()
        return call(body, metadata=metadata, timeout=30)  # type: ignore[no-any-return]


def spend_json(db: str, by: str = "user", since: str = "2026-01-01") -> list[dict[str, Any]]:
    """Run `otelspend spend --json` and return its rows."""
    result = CliRunner().invoke(main, ["spend", "--db", db, "--by", by, "--since", since, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def totals(db: str) -> tuple[int, str]:
    """(calls, cost_usd) over every group."""
    rows = spend_json(db, "org")
    return sum(r["calls"] for r in rows), str(
        sum((Decimal(r["cost_usd"]) for r in rows), Decimal("0.000000"))
    )
