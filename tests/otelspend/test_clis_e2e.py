"""The real Claude Code, Codex and Gemini CLIs, configured only by `otelspend onboard`.

Each CLI (pinned, installed from npm by clis.install_clis) runs once, non-interactively, with
HOME in a scratch directory, against the stand-in upstream, exporting telemetry to a running
server.  What the test adds on top of the onboarding files is only what a person adds when
running a CLI: the upstream's base URL and an API key for it, a model, and the CLI's
"headless" switches.  Expected dollars (genai-prices, per million tokens):

- Claude Code, claude-sonnet-4-5 ($3 in, $0.30 cache read, $3.75 cache write, $15 out) on the
  stand-in's 1200 in / 5000 read / 800 write / 300 out: $0.012600.
- Codex, gpt-5.1-codex (priced as gpt-5.1: $1.25 in, $0.125 cached, $10 out) on 1200 in incl.
  1000 cached / 300 out incl. 100 reasoning: 200*1.25 + 1000*0.125 + 300*10 = $0.003375.
- Gemini CLI, gemini-2.5-flash ($0.30 in, $0.03 cached, $2.50 out incl. thinking) on 1200 in
  incl. 1000 cached / 300 out + 100 thoughts: 60 + 30 + 1000 = $0.001090.

Claude Code reads the bundle's managed-settings.json through --settings: the system path
(/etc/claude-code/...) is machine-wide and root-owned, and its SDK flag --managed-settings
keeps only restrictive settings.  The same file at the system path was checked by hand.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from otelspend.cli import main
from store.budgets import BudgetSpec, set_budget
from store.identity import list_keys
from store.subjects import find_org, resolve_subject
from tests.otelspend import clis
from tests.otelspend.conftest import LiveServer
from tests.otelspend.helpers import spend_json
from tests.otelspend.standin_upstream import StandinUpstream

pytestmark = pytest.mark.clis
VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"
USERS_CSV = (
    "user,email,workspace,team\nalice,alice@example.com,platform,infra\nbob,bob@example.com,data,\n"
)


@pytest.fixture(scope="session")
def installed() -> clis.InstalledClis:
    reason = clis.npm_missing_reason()
    if reason:
        print(f"\nSKIPPING the real-CLI tests: {reason}")
        pytest.skip(reason)
    return clis.install_clis()


@pytest.fixture
def upstream() -> Iterator[StandinUpstream]:
    with StandinUpstream() as server:
        yield server


@pytest.fixture
def secure_dir() -> Iterator[Path]:
    """A scratch directory no other user can write to, with no world-writable parent.

    Gemini CLI refuses system settings below such a directory, so it cannot live in /tmp.
    """
    root = clis.cache_root()
    root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def onboard(client: str, live: LiveServer, out: Path, *extra: str) -> dict[str, str]:
    """Run `otelspend onboard CLIENT --users` for alice and bob; return user -> key prefix."""
    users = out.parent / "users.csv"
    users.write_text(USERS_CSV)
    args = ["onboard", client, "--server", live.http_endpoint, "--users", str(users),
            "--out", str(out), "--db", live.db, "--org", "acme", *extra]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return {k.user: k.prefix for k in list_keys(live.running.engine) if k.label.startswith("onb")}


def _spend(live: LiveServer) -> dict[str, Any]:
    """(calls, cost) by user and by key, as `otelspend spend --json` reports them."""
    return {
        by: {r[by]: (r["calls"], r["cost_usd"]) for r in spend_json(live.db, by, "1h")}
        for by in ("user", "key")
    }


def assert_spend(live: LiveServer, expected: dict[str, Any]) -> None:
    got = clis.wait_for(lambda: _spend(live), expected)
    time.sleep(1.5)  # anything a CLI still sends (a duplicate, a late metric) lands now
    assert _spend(live) == got == expected


def scratch_home(tmp_path: Path) -> tuple[Path, Path]:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir(parents=True)
    home.mkdir()
    return home, work


def test_claude_code_reports_once_and_the_hook_blocks_a_spent_budget(
    installed: clis.InstalledClis, live_sqlite_server: LiveServer, upstream: StandinUpstream,
    tmp_path: Path,
) -> None:  # fmt: skip
    live = live_sqlite_server
    keys = onboard("claude-code", live, tmp_path / "bundles")
    settings = tmp_path / "bundles" / "alice" / "managed-settings.json"
    home, work = scratch_home(tmp_path)
    env = clis.base_env(home, installed.bin_dir, VENV_BIN)  # the hook runs `otelspend`
    env.update(ANTHROPIC_BASE_URL=upstream.url, ANTHROPIC_API_KEY="sk-ant-standin")
    argv = [installed.path("claude"), "-p", "say hi", "--model", "claude-sonnet-4-5",
            "--settings", str(settings)]  # fmt: skip
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    assert len(upstream.model_calls()) == 1
    alice = (1, "0.012600")
    assert_spend(live, {"user": {"alice": alice}, "key": {keys["alice"]: alice}})

    _hard_daily_budget(live, "alice", "0.01")
    blocked = clis.run_cli(argv, env, work)
    assert "the hard daily budget of user alice is used up" in blocked.stdout + blocked.stderr
    assert "spent $0.012600 of $0.010000" in blocked.stdout + blocked.stderr
    assert len(upstream.model_calls()) == 1  # the prompt never reached the model
    assert_spend(live, {"user": {"alice": alice}, "key": {keys["alice"]: alice}})


def test_codex_reports_once(
    installed: clis.InstalledClis, live_sqlite_server: LiveServer, upstream: StandinUpstream,
    tmp_path: Path,
) -> None:  # fmt: skip
    live = live_sqlite_server
    keys = onboard("codex", live, tmp_path / "bundles")
    home, work = scratch_home(tmp_path)
    codex_home = home / ".codex"
    codex_home.mkdir(mode=0o700)
    shutil.copy(tmp_path / "bundles" / "bob" / "config.toml", codex_home / "config.toml")
    env = clis.base_env(home, installed.bin_dir)
    env.update(CODEX_HOME=str(codex_home), OPENAI_API_KEY="sk-standin")
    argv = [installed.path("codex"), "exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex",
            "-c", f'openai_base_url="{upstream.url}/v1"', "say hi"]  # fmt: skip
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    assert [r.method for r in upstream.model_calls()] == ["POST"]
    bob = (1, "0.003375")
    assert_spend(live, {"user": {"bob": bob}, "key": {keys["bob"]: bob}})


def test_gemini_cli_reports_once(
    installed: clis.InstalledClis, live_sqlite_server: LiveServer, upstream: StandinUpstream,
    tmp_path: Path, secure_dir: Path,
) -> None:  # fmt: skip
    if installed.node_major < 20:
        pytest.skip(f"Gemini CLI {clis.PINS['@google/gemini-cli']} needs Node.js >= 20")
    live = live_sqlite_server
    keys = onboard("gemini", live, tmp_path / "bundles")
    bundle = tmp_path / "bundles" / "alice"
    home, work = scratch_home(tmp_path)
    (home / ".gemini").mkdir(mode=0o700)
    shutil.copy(bundle / ".env", home / ".gemini" / ".env")
    shutil.copy(bundle / "settings.json", secure_dir / "settings.json")
    # The person's own choice, not onboarding: sign in with an API key (the stand-in's).
    auth = {"security": {"auth": {"selectedType": "gemini-api-key"}}}
    (home / ".gemini" / "settings.json").write_text(json.dumps(auth))
    env = clis.base_env(home, installed.bin_dir)
    env.update(
        GEMINI_CLI_SYSTEM_SETTINGS_PATH=str(secure_dir / "settings.json"),
        GEMINI_CLI_TRUST_WORKSPACE="true",
        GOOGLE_GEMINI_BASE_URL=upstream.url,
        GEMINI_API_KEY="standin-key",
    )
    argv = [installed.path("gemini"), "-p", "say hi", "-m", "gemini-2.5-flash"]
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    assert len(upstream.model_calls()) == 1
    alice = (1, "0.001090")
    assert_spend(live, {"user": {"alice": alice}, "key": {keys["alice"]: alice}})


def _hard_daily_budget(live: LiveServer, user: str, limit_usd: str) -> None:
    with live.running.engine.begin() as conn:
        org = find_org(conn, "acme")
        user_id = resolve_subject(conn, org.id, "user", user)
        limit = int(float(limit_usd) * 1_000_000_000)
        set_budget(
            conn, BudgetSpec(org.id, "user", user_id, "day", limit, mode="hard"), "t", "acme"
        )
