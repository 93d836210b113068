"""Zero-code: `otelspend-run python agent.py` with real SDKs, exporting to a running server.

Each agent runs in its own process exactly as a user would start it (the global
TracerProvider, the sitecustomize bootstrap, the exit-time flush are all real), talks to the
stand-in upstream, and the dollars `otelspend spend` reports must match the stand-in's usage.
Prices (genai-prices, per million tokens): gpt-5.1 $1.25 in / $0.125 cached / $10 out, so a
stand-in call (1200 in incl. 1000 cached, 300 out) is 200*1.25 + 1000*0.125 + 300*10 =
$0.003375; claude-sonnet-4-5 $3 in / $0.30 cache read / $3.75 cache write / $15 out, so a
call (1200 in, 5000 read, 800 write, 300 out) is 3600 + 1500 + 3000 + 4500 = $0.012600.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.otelspend.conftest import LiveServer, run_server
from tests.otelspend.helpers import spend_json
from tests.otelspend.standin_upstream import StandinUpstream

BIN = Path(sys.executable).parent
AGENTS = Path(__file__).parent / "agents"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def live(db_url: str) -> Iterator[LiveServer]:
    yield from run_server(db_url, decode_workers=0)


def _run_agent(
    live: LiveServer, up: StandinUpstream, tmp_path: Path, script: str, *flags: str
) -> str:
    """Run agents/<script> under otelspend-run; return its stdout."""
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": live.http_endpoint,
        "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {live.key}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTELSPEND_CLIENT_CONFIG": str(tmp_path / "absent.toml"),
        "STANDIN_URL": up.url,
    }
    for name in ("OTEL_SERVICE_NAME", "OTELSPEND_AGENT_NAME", "PYTHONPATH"):
        env.pop(name, None)
    command = [str(BIN / "otelspend-run"), *flags, sys.executable, str(AGENTS / script)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "NOT reported" not in done.stderr, done.stderr
    return done.stdout


def test_openai_and_anthropic_sdks_sync_async_streaming(live: LiveServer, tmp_path: Path) -> None:
    with StandinUpstream() as up:
        out = _run_agent(live, up, tmp_path, "sdk_agent.py")
        assert out.count("Hi! How can I help?") == 7
        assert len(up.model_calls()) == 7
    by_model = {
        r["model"]: (
            r["calls"],
            r["cost_usd"],
            r["input_tokens"],
            r["cache_read_tokens"],
            r["cache_write_tokens"],
            r["output_tokens"],
            r["reasoning_tokens"],
        )
        for r in spend_json(live.db, "model", "1h")
    }
    assert by_model == {
        "gpt-5.1": (4, "0.013500", 800, 4000, 0, 1200, 400),
        "claude-sonnet-4-5": (3, "0.037800", 3600, 15000, 2400, 900, 0),
    }
    [user] = spend_json(live.db, "user", "1h")
    assert (user["user"], user["calls"], user["cost_usd"]) == ("alice", 7, "0.051300")
    [agent] = spend_json(live.db, "agent", "1h")
    assert agent["agent"] == "sdk_agent"  # service.name defaults to the script's name


def test_langchain_tool_agent(live: LiveServer, tmp_path: Path) -> None:
    with StandinUpstream(tool_calls=True) as up:
        out = _run_agent(live, up, tmp_path, "langchain_agent.py", "--agent-name", "researcher")
        assert "sunny in x" in out  # the tool ran on the model's request
        assert len(up.model_calls()) == 3  # tool call, answer, streamed summary
    [agent] = spend_json(live.db, "agent", "1h")
    assert (agent["agent"], agent["calls"], agent["cost_usd"]) == ("researcher", 3, "0.010125")
    [key] = spend_json(live.db, "key", "1h")
    assert key["key"] == live.key[:12]


def test_run_without_otelspend_in_the_interpreter_warns_and_runs(tmp_path: Path) -> None:
    script = tmp_path / "plain.py"
    script.write_text("print('still runs')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    base_python = Path(sys.base_prefix) / "bin" / Path(sys.executable).name
    if not base_python.exists() or sys.base_prefix == sys.prefix:
        pytest.skip("needs a Python without otelspend installed (the venv's base interpreter)")
    command = [str(BIN / "otelspend-run"), str(base_python), str(script)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "still runs\n"
    assert "model calls of this program are NOT reported" in done.stderr


def test_missing_command_exits_127() -> None:
    done = subprocess.run(
        [str(BIN / "otelspend-run"), "no-such-program-xyz"], capture_output=True, text=True
    )
    assert done.returncode == 127 and "cannot run 'no-such-program-xyz'" in done.stderr
