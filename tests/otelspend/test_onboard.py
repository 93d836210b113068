"""`otelspend onboard`: the files each coding CLI gets, and per-user keys and bundles."""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from otelspend.cli import main
from otelspend.onboard import Identity, OnboardSpec, bundle_files, claude_code_settings
from store.engine import make_engine
from store.identity import find_key_by_hash, hash_key, list_keys

SERVER = "https://otelspend.example.com:4318"
KEY = "osk_test0000000000000000000000000000"
ALICE = Identity("alice", "platform", "alice@example.com", "infra")


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["onboard", *args])
    return result.exit_code, result.stdout, result.stderr


def test_claude_code_managed_settings() -> None:
    settings = claude_code_settings(OnboardSpec("claude-code", SERVER, KEY, ALICE))
    assert settings["env"] == {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": SERVER,
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {KEY}",
        "OTEL_METRIC_EXPORT_INTERVAL": "10000",
        "OTEL_LOGS_EXPORT_INTERVAL": "5000",
        "OTEL_RESOURCE_ATTRIBUTES": "otelspend.workspace=platform,team.id=infra,"
        "user.email=alice@example.com",
        "OTELSPEND_BUDGET_URL": f"{SERVER}/v1/budget/check",
        "OTELSPEND_KEY": KEY,
    }
    assert settings["hooks"] == {
        "UserPromptSubmit": [
            {"hooks": [{"type": "command", "command": "otelspend hook claude-code", "timeout": 10}]}
        ]
    }


def test_claude_code_via_gateway_and_without_hook() -> None:
    spec = OnboardSpec("claude-code", SERVER, KEY, via_gateway=True, hook=False)
    settings = claude_code_settings(spec)
    env = settings["env"]
    assert isinstance(env, dict)
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8787/anthropic"
    assert env["ANTHROPIC_AUTH_TOKEN"] == KEY
    assert "hooks" not in settings and "OTELSPEND_KEY" not in env
    custom = OnboardSpec("claude-code", SERVER, KEY, via_gateway=True, gateway_url="https://gw:9")
    assert claude_code_settings(custom)["env"]["ANTHROPIC_BASE_URL"] == "https://gw:9/anthropic"  # type: ignore[index]


def test_codex_config_has_the_otel_exporters_with_the_key() -> None:
    [file] = bundle_files(OnboardSpec("codex", SERVER, KEY, ALICE))
    assert file.name == "config.toml"
    assert (
        'exporter = { otlp-http = { endpoint = "https://otelspend.example.com:4318/v1/logs", '
        f'protocol = "binary", headers = {{ "Authorization" = "Bearer {KEY}" }} }} }}'
    ) in file.content
    config = tomllib.loads(file.content)
    headers = {"Authorization": f"Bearer {KEY}"}
    assert config == {
        "otel": {
            "log_user_prompt": False,
            "environment": "platform",
            "exporter": {
                "otlp-http": {
                    "endpoint": f"{SERVER}/v1/logs",
                    "protocol": "binary",
                    "headers": headers,
                }
            },
            "trace_exporter": {
                "otlp-http": {
                    "endpoint": f"{SERVER}/v1/traces",
                    "protocol": "binary",
                    "headers": headers,
                }
            },
        }
    }


def test_codex_via_gateway_uses_an_otelspend_provider() -> None:
    [file] = bundle_files(OnboardSpec("codex", SERVER, KEY, via_gateway=True))
    config = tomllib.loads(file.content)
    assert config["model_provider"] == "otelspend"
    assert config["model_providers"]["otelspend"] == {
        "name": "otelspend gateway",
        "base_url": "http://127.0.0.1:8787/openai/v1",
        "wire_api": "responses",
        "experimental_bearer_token": KEY,
    }


def test_gemini_settings_and_env() -> None:
    settings, env = bundle_files(OnboardSpec("gemini", SERVER, KEY, ALICE))
    assert (settings.name, env.name) == ("settings.json", ".env")
    assert json.loads(settings.content) == {
        "telemetry": {
            "enabled": True,
            "target": "local",
            "otlpEndpoint": SERVER,
            "otlpProtocol": "http",
            "logPrompts": False,
        }
    }
    assert f'OTEL_EXPORTER_OTLP_HEADERS="Authorization=Bearer {KEY}"' in env.content.splitlines()
    settings, env = bundle_files(OnboardSpec("gemini", SERVER, KEY, via_gateway=True))
    assert json.loads(settings.content)["security"] == {"auth": {"selectedType": "gemini-api-key"}}
    lines = env.content.splitlines()
    assert 'GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:8787/gemini"' in lines
    assert f'GEMINI_API_KEY="{KEY}"' in lines


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "exactly one of --key KEY or --users"),
        (["--key", KEY, "--users", __file__], "exactly one of --key KEY or --users"),
        (["--users", __file__], "--users needs --out"),
        (["--key", KEY, "--gateway-url", "http://gw:1"], "--gateway-url needs --via-gateway"),
        (["--key", "two words"], "single token"),
    ],
)
def test_usage_errors(args: list[str], message: str) -> None:
    code, _, err = _invoke("codex", "--server", SERVER, *args)
    assert code == 2 and message in err


def test_single_key_prints_the_file() -> None:
    code, out, _ = _invoke("codex", "--server", SERVER + "/", "--key", KEY)
    assert code == 0 and tomllib.loads(out)["otel"]["exporter"]["otlp-http"]["endpoint"] == (
        f"{SERVER}/v1/logs"
    )


def test_users_csv_creates_one_hashed_key_and_private_bundle_per_user(
    tmp_path: Path, sqlite_url: str
) -> None:
    users = tmp_path / "users.csv"
    users.write_text(
        "user,email,workspace,team\nalice,alice@x.io,platform,infra\n\nbob,bob@x.io,data,\n"
    )
    out = tmp_path / "bundles"
    args = ["--users", str(users), "--out", str(out), "--db", sqlite_url, "--org", "acme"]
    code, stdout, _ = _invoke("claude-code", "--server", SERVER, *args)
    assert code == 0, stdout
    keys = {k.user: k for k in list_keys(make_engine(sqlite_url))}
    assert {(u, k.org, k.workspace, k.label) for u, k in keys.items()} == {
        ("alice", "acme", "platform", "onboard claude-code"),
        ("bob", "acme", "data", "onboard claude-code"),
    }
    for user in ("alice", "bob"):
        bundle = out / user
        assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
        assert sorted(p.name for p in bundle.iterdir()) == ["INSTALL.txt", "managed-settings.json"]
        assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in bundle.iterdir())
        env = json.loads((bundle / "managed-settings.json").read_text())["env"]
        secret = env["OTELSPEND_KEY"]
        assert secret not in stdout and secret.startswith(keys[user].prefix)
        found = find_key_by_hash(make_engine(sqlite_url), hash_key(secret))
        assert found is not None and found.prefix == keys[user].prefix
        install = (bundle / "INSTALL.txt").read_text()
        for path in (
            "/Library/Application Support/ClaudeCode/",
            "/etc/claude-code/",
            r"C:\Program Files\ClaudeCode",
        ):
            assert path in install
    # A second run would overwrite the bundles: refused before any key is created.
    code, _, err = _invoke("claude-code", "--server", SERVER, *args)
    assert code == 1 and "already exist" in err
    assert len(list_keys(make_engine(sqlite_url))) == 2


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("name,email,workspace\nalice,a@x,w\n", "missing: user"),
        ("user,email,workspace\nalice,,w\n", ":2: empty email"),
        ("user,email,workspace\nalice,a@x,w\nalice,b@x,w\n", "user 'alice' appears twice"),
        ("user,email,workspace\n", "no users"),
    ],
)
def test_bad_users_csv(tmp_path: Path, sqlite_url: str, csv_text: str, message: str) -> None:
    users = tmp_path / "users.csv"
    users.write_text(csv_text)
    code, _, err = _invoke(
        "gemini",
        "--server",
        SERVER,
        "--users",
        str(users),
        "--out",
        str(tmp_path / "o"),
        "--db",
        sqlite_url,
    )
    assert code == 1 and message in err
