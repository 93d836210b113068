"""The real CLIs onboarded with `--via-gateway`: model calls go through the gateway (which
holds the provider credential) AND the CLI exports its own telemetry — each call is counted
once, attributed to the person's user and key, with the right dollars.

Same pinned CLIs, stand-in upstream and expected dollars as test_clis_e2e.py; here the
stand-in sits behind the gateway of the running server, and the CLI is given nothing but
the onboarding files plus a model and its headless switches (no provider key at all).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gateway.conftest import PROVIDER_KEY, gateway_config
from tests.otelspend import clis
from tests.otelspend import test_clis_e2e as e2e
from tests.otelspend.conftest import LiveServer, run_server
from tests.otelspend.standin_upstream import StandinUpstream
from tests.otelspend.test_clis_e2e import assert_spend, onboard, scratch_home

pytestmark = pytest.mark.clis
installed = e2e.installed  # the same session fixtures: one npm install per run
secure_dir = e2e.secure_dir


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[LiveServer, StandinUpstream]]:
    """A server whose gateway forwards every provider to a fresh stand-in."""
    with StandinUpstream() as upstream:
        for live in run_server(sqlite_url, decode_workers=0, gateway=gateway_config(upstream)):
            yield live, upstream


def _via(live: LiveServer) -> list[str]:
    assert live.running.gateway is not None
    return ["--via-gateway", "--gateway-url", live.running.gateway.url]


def _one_call_with_the_gateway_credential(upstream: StandinUpstream) -> None:
    calls = upstream.model_calls()
    assert len(calls) == 1, [c.path for c in calls]
    sent = {k.lower(): v for k, v in calls[0].headers.items()}
    creds = [sent.get("x-api-key"), sent.get("authorization"), sent.get("x-goog-api-key")]
    assert any(c and PROVIDER_KEY in c for c in creds), sent  # the user's key never leaves


def _run_claude(
    installed: clis.InstalledClis,
    served: tuple[LiveServer, StandinUpstream],
    tmp_path: Path,
    **env_over: str,
) -> dict[str, str]:
    """Onboard alice --via-gateway (settings env overridden by `env_over`), run `claude -p`
    once, check the one upstream call; returns the onboarded keys."""
    live, upstream = served
    keys = onboard("claude-code", live, tmp_path / "bundles", *_via(live))
    settings = tmp_path / "bundles" / "alice" / "managed-settings.json"
    if env_over:
        doc = json.loads(settings.read_text())
        doc["env"].update(env_over)
        settings.write_text(json.dumps(doc))
    home, work = scratch_home(tmp_path)
    env = clis.base_env(home, installed.bin_dir)
    argv = [installed.path("claude"), "-p", "say hi", "--model", "claude-sonnet-4-5",
            "--settings", str(settings)]  # fmt: skip
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    _one_call_with_the_gateway_credential(upstream)
    return keys


def test_claude_code_via_the_gateway_counts_each_call_once(
    installed: clis.InstalledClis, served: tuple[LiveServer, StandinUpstream], tmp_path: Path
) -> None:
    keys = _run_claude(installed, served, tmp_path)
    alice = (1, "0.012600")
    assert_spend(served[0], {"user": {"alice": alice}, "key": {keys["alice"]: alice}})


def test_claude_code_exporting_only_metrics_via_the_gateway_counts_each_call_once(
    installed: clis.InstalledClis, served: tuple[LiveServer, StandinUpstream], tmp_path: Path
) -> None:
    # Logs and traces turned off: the CLI's only record is its session's metric aggregate,
    # which has no per-call tokens to match.  The gateway's record names the same session
    # (X-Claude-Code-Session-Id), so the aggregate is superseded, not billed beside it.
    keys = _run_claude(
        installed, served, tmp_path, OTEL_LOGS_EXPORTER="none", OTEL_TRACES_EXPORTER="none"
    )
    assert wait_for_aggregate(served[0])
    alice = (1, "0.012600")
    assert_spend(served[0], {"user": {"alice": alice}, "key": {keys["alice"]: alice}})


def wait_for_aggregate(live: LiveServer, timeout_s: float = 30) -> bool:
    """True once the CLI's metric aggregate is stored (billed or not)."""
    engine = live.running.engine
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            sql = "SELECT count(*) FROM llm_calls WHERE granularity = 'aggregate'"
            if conn.exec_driver_sql(sql).scalar_one():
                return True
        time.sleep(0.2)
    return False


def test_codex_via_the_gateway_counts_each_call_once(
    installed: clis.InstalledClis, served: tuple[LiveServer, StandinUpstream], tmp_path: Path
) -> None:
    live, upstream = served
    keys = onboard("codex", live, tmp_path / "bundles", *_via(live))
    home, work = scratch_home(tmp_path)
    codex_home = home / ".codex"
    codex_home.mkdir(mode=0o700)
    shutil.copy(tmp_path / "bundles" / "bob" / "config.toml", codex_home / "config.toml")
    env = clis.base_env(home, installed.bin_dir)
    env.update(CODEX_HOME=str(codex_home))
    argv = [installed.path("codex"), "exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex",
            "say hi"]  # fmt: skip
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    _one_call_with_the_gateway_credential(upstream)
    bob = (1, "0.003375")
    assert_spend(live, {"user": {"bob": bob}, "key": {keys["bob"]: bob}})


def test_gemini_cli_via_the_gateway_counts_each_call_once(
    installed: clis.InstalledClis,
    served: tuple[LiveServer, StandinUpstream],
    tmp_path: Path,
    secure_dir: Path,
) -> None:
    if installed.node_major < 20:
        pytest.skip(f"Gemini CLI {clis.PINS['@google/gemini-cli']} needs Node.js >= 20")
    live, upstream = served
    keys = onboard("gemini", live, tmp_path / "bundles", *_via(live))
    bundle = tmp_path / "bundles" / "alice"
    home, work = scratch_home(tmp_path)
    (home / ".gemini").mkdir(mode=0o700)
    shutil.copy(bundle / ".env", home / ".gemini" / ".env")
    shutil.copy(bundle / "settings.json", secure_dir / "settings.json")
    assert json.loads((bundle / "settings.json").read_text())["security"]
    env = clis.base_env(home, installed.bin_dir)
    env.update(
        GEMINI_CLI_SYSTEM_SETTINGS_PATH=str(secure_dir / "settings.json"),
        GEMINI_CLI_TRUST_WORKSPACE="true",
    )
    argv = [installed.path("gemini"), "-p", "say hi", "-m", "gemini-2.5-flash"]
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    _one_call_with_the_gateway_credential(upstream)
    alice = (1, "0.001090")
    assert_spend(live, {"user": {"alice": alice}, "key": {keys["alice"]: alice}})
