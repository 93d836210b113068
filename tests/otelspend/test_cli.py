"""The `otelspend` command line: serve as a real process, keys, spend, configuration."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from otelspend.cli import main
from tests.otelspend.helpers import post_fixture, spend_json

OTELSPEND = str(Path(sys.executable).with_name("otelspend"))


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def test_serve_prints_endpoints_and_a_working_key(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/serve.db"
    proc = subprocess.Popen(
        [
            OTELSPEND,
            "serve",
            "--db",
            db,
            "--otlp-http-port",
            "0",
            "--otlp-grpc-port",
            "0",
            "--decode-workers",
            "0",
            "--no-ui",
            "--no-gateway",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("Then:"):
            break
    text = "".join(lines)
    try:
        endpoint = re.search(r"OTEL_EXPORTER_OTLP_ENDPOINT=(http://127\.0\.0\.1:\d+)", text)
        key = re.search(r"Authorization=Bearer (osk_\S+)\"", text)
        assert endpoint and key, text
        assert "OTLP/gRPC  http://127.0.0.1:" in text
        assert "CLAUDE_CODE_ENABLE_TELEMETRY=1" in text and "[otel]" in text
        status = post_fixture(
            endpoint.group(1), "claude-code-2.1.197", "logs", "json", key.group(1)
        )
        assert status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    [row] = spend_json(db, "user")
    assert (row["calls"], row["cost_usd"]) == (1, "0.021000")


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/k.db"
    code, out = _run(
        "keys", "create", "--db", db, "--org", "acme", "--workspace", "web", "--user", "dana"
    )
    assert code == 0
    token = out.splitlines()[0]
    assert token.startswith("osk_") and len(token) > 30
    code, out = _run("keys", "list", "--db", db, "--json")
    [info] = json.loads(out)
    assert token.startswith(info["prefix"]) and info["user"] == "dana"
    assert token not in out  # only the prefix is ever shown again
    assert _run("keys", "revoke", "--db", db, info["prefix"])[0] == 0
    assert json.loads(_run("keys", "list", "--db", db, "--json")[1]) == []
    code, out = _run("keys", "revoke", "--db", db, info["prefix"])
    assert code != 0 and "no live key" in out


def test_spend_rejects_bad_since_and_grouping(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/s.db"
    code, out = _run("spend", "--db", db, "--since", "yesterday-ish")
    assert code == 2 and "30m, 1h, 2d, 1w" in out
    code, out = _run("spend", "--db", db, "--by", "planet")
    assert code == 2 and "planet" in out
    code, out = _run("spend", "--db", db)
    assert code == 0 and "No spend" in out


def test_config_file_env_and_flag_precedence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_file, from_env, from_flag = (f"sqlite:///{tmp_path}/{n}.db" for n in ("f", "e", "x"))
    config = tmp_path / "otelspend.toml"
    config.write_text(f'db = "{from_file}"\n')
    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTELSPEND_")}
    assert _run("keys", "create", "--org", "o", "--workspace", "w", env=env)[0] == 0
    assert (tmp_path / "f.db").exists()
    env["OTELSPEND_DB"] = from_env
    assert _run("keys", "create", "--org", "o", "--workspace", "w", env=env)[0] == 0
    assert (tmp_path / "e.db").exists()
    assert (
        _run("keys", "create", "--db", from_flag, "--org", "o", "--workspace", "w", env=env)[0] == 0
    )
    assert (tmp_path / "x.db").exists()
    config.write_text("[nonsense]\nx = 1\n")
    code, out = _run("keys", "list", env=env)
    assert code == 2 and "unknown section" in out
