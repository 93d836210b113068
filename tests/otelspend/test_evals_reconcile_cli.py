"""`otelspend reconcile ...` on a live server's store: import, map, report, budgets, bypass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from otelspend.cli import main
from tests.collector_processor.reconcile import samples as s
from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import post, spend_json
from tests.otelspend.test_evals_e2e import PB, _chat, _traces

NOV22_START = 1_795_305_600_000_000_000  # the UTC day of the ingested span


def _run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "--json" in args else result.output


def _cost_export(cents: str) -> dict[str, Any]:
    """An Anthropic cost report for 2026-11-22 billing the platform workspace."""
    result = s._cost(cents, "uncached_input_tokens", s.WS_PLATFORM, model="claude-sonnet-4-5")
    bucket = {"starting_at": "2026-11-22T00:00:00Z", "ending_at": "2026-11-23T00:00:00Z"}
    return {"data": [{**bucket, "results": [result]}], "has_more": False, "next_page": None}


def test_import_map_report(live_sqlite_server: LiveServer, tmp_path: Path) -> None:
    server, db = live_sqlite_server, live_sqlite_server.db
    span = _chat("c" * 32, "3" * 16, "msg_c")
    assert (
        post(server.http_endpoint, "traces", _traces(span), key=server.key, content_type=PB)[0]
        == 200
    )
    captured = sum(int(r["cost_nanousd"]) for r in spend_json(db, "org", "2026-11-01"))
    export = tmp_path / "cost.json"
    export.write_text(json.dumps(_cost_export("10")))  # $0.10 billed
    window = ["--since", "2026-11-22", "--until", "2026-11-23", "--org", "acme"]
    out = _run(
        "reconcile",
        "import",
        "--db",
        db,
        str(export),
        "--format",
        "anthropic-cost",
        "--org",
        "acme",
    )
    assert "imported 1 line(s)" in out and "2026-11-22..2026-11-22 UTC" in out
    again = _run(
        "reconcile",
        "import",
        "--db",
        db,
        str(export),
        "--format",
        "anthropic-cost",
        "--org",
        "acme",
        "--json",
    )
    assert (again["lines"], again["replaced_lines"]) == (1, 1)
    rows = _run("reconcile", "report", "--db", db, "--by", "workspace", "--json", *window)
    groups = {r["workspace"]: r for r in rows}
    assert groups[f"unmapped:anthropic:{s.WS_PLATFORM}"]["billed"]["nanousd"] == 100_000_000
    _run(
        "reconcile",
        "map",
        "--db",
        db,
        "--provider",
        "anthropic",
        "--workspace-id",
        s.WS_PLATFORM,
        "--to",
        "platform",
        "--org",
        "acme",
    )
    (platform, total) = _run(
        "reconcile", "report", "--db", db, "--by", "workspace", "--json", *window
    )
    assert platform["workspace"] == "platform"
    assert (platform["billed"]["nanousd"], platform["captured"]["nanousd"]) == (
        100_000_000,
        captured,
    )
    assert platform["delta"]["nanousd"] == 100_000_000 - captured
    assert platform["capture_rate"] == f"{captured / 100_000_000:.4f}"
    assert total["workspace"] == "TOTAL"
    text = _run("reconcile", "report", "--db", db, "--by", "provider", *window)
    assert "anthropic" in text and "verdict" in text
    maps = _run("reconcile", "map", "--db", db, "--list", "--json", "--org", "acme")
    assert maps == [
        {
            "provider": "anthropic",
            "kind": "workspace",
            "external_id": s.WS_PLATFORM,
            "workspace": "platform",
        }
    ]
    imports = _run("reconcile", "imports", "--db", db, "--org", "acme", "--json")
    assert [i["replaced_lines"] for i in imports] == [1, 0]


def test_budgets_gateway_and_errors(live_sqlite_server: LiveServer, tmp_path: Path) -> None:
    db = live_sqlite_server.db
    assert "no" in _run("reconcile", "budgets", "--db", db, "--org", "acme")
    assert "yes" in _run("reconcile", "budgets", "--db", db, "--count-uncaptured", "--org", "acme")
    assert _run("reconcile", "gateway", "--db", db, "--org", "acme", "--json") == []
    bad = tmp_path / "usage.json"
    bad.write_text(json.dumps(s.openai_usage_page()))
    result = CliRunner().invoke(
        main, ["reconcile", "import", "--db", db, str(bad), "--format", "openai-costs"]
    )
    assert result.exit_code == 1 and "--format openai-usage" in result.output
    result = CliRunner().invoke(
        main, ["reconcile", "map", "--db", db, "--provider", "openai", "--to", "platform"]
    )
    assert result.exit_code == 2 and "exactly one of" in result.output
    result = CliRunner().invoke(
        main,
        [
            "reconcile",
            "map",
            "--db",
            db,
            "--provider",
            "openai",
            "--project-id",
            "p",
            "--to",
            "nope",
        ],
    )
    assert result.exit_code == 2 and "no workspace 'nope'" in result.output
