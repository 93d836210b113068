"""The real Claude Code and Codex CLIs (pinned npm versions) through the gateway against the
stand-in upstream: the call is recorded with the right dollars, and a blocked user reads the
budget message at once, with no retry storm (the block status is why: README, "Gateway")."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway.conftest import GatewayRig
from tests.gateway.helpers import hard_budget, wait_spend
from tests.otelspend import clis

pytestmark = pytest.mark.clis


@pytest.fixture(scope="session")
def installed() -> clis.InstalledClis:
    reason = clis.npm_missing_reason()
    if reason:
        print(f"\nSKIPPING the real-CLI gateway tests: {reason}")
        pytest.skip(reason)
    return clis.install_clis()


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    h, w = tmp_path / "home", tmp_path / "work"
    h.mkdir()
    w.mkdir()
    yield h, w


def _blocks(rig: GatewayRig) -> int:
    text = httpx.get(rig.url + "/metrics").text
    return int(
        sum(float(v) for v in re.findall(r"otelspend_gateway_blocks_total\{[^}]*\} (\S+)", text))
    )


def test_claude_code_through_the_gateway(
    installed: clis.InstalledClis, rig: GatewayRig, home: tuple[Path, Path]
) -> None:
    h, work = home
    env = clis.base_env(h, installed.bin_dir)
    env.update(ANTHROPIC_BASE_URL=rig.url + "/anthropic", ANTHROPIC_API_KEY=rig.live.key)
    argv = [installed.path("claude"), "-p", "say hi", "--model", "claude-sonnet-4-5"]
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    calls = len(rig.upstream.model_calls())
    assert calls >= 1
    assert wait_spend(rig.live.db, calls)[0] == calls
    hard_budget(rig.live.running.engine, "alice", "0.001")
    started = time.monotonic()
    blocked = clis.run_cli(argv, env, work)
    took = time.monotonic() - started
    out = blocked.stdout + blocked.stderr
    assert "the hard daily budget of user alice is used up" in out, out
    assert "otelspend requests create --budget" in out
    assert len(rig.upstream.model_calls()) == calls  # never reached upstream
    assert _blocks(rig) <= 2 and took < 60, (_blocks(rig), took)  # no retry storm


def test_codex_through_the_gateway(
    installed: clis.InstalledClis, rig: GatewayRig, home: tuple[Path, Path]
) -> None:
    h, work = home
    codex_home = h / ".codex"
    codex_home.mkdir(mode=0o700)
    env = clis.base_env(h, installed.bin_dir)
    env.update(CODEX_HOME=str(codex_home), OTELSPEND_KEY=rig.live.key)
    provider = (
        f'{{name="otelspend", base_url="{rig.url}/openai/v1", env_key="OTELSPEND_KEY", '
        'wire_api="responses"}'
    )  # as `otelspend onboard codex --gateway` writes it
    argv = [installed.path("codex"), "exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex",
            "-c", f"model_providers.otelspend={provider}", "-c", 'model_provider="otelspend"',
            "say hi"]  # fmt: skip
    done = clis.run_cli(argv, env, work)
    assert done.returncode == 0 and "Hi! How can I help?" in done.stdout, done.stderr
    assert wait_spend(rig.live.db, 1) == (1, "0.003375")
    hard_budget(rig.live.running.engine, "alice", "0.001")
    started = time.monotonic()
    blocked = clis.run_cli(argv, env, work)
    took = time.monotonic() - started
    out = blocked.stdout + blocked.stderr
    assert "the hard daily budget of user alice is used up" in out, out
    assert len(rig.upstream.model_calls()) == 1
    assert _blocks(rig) <= 2 and took < 60, (_blocks(rig), took)
