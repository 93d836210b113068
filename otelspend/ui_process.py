"""Run the Streamlit UI as a child process: `otelspend ui`, and `otelspend serve` unless --no-ui.

The UI is a separate process (Streamlit owns its event loop and its server); it gets the
database and its settings through OTELSPEND_* variables (ui/settings.py reads them).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import ui
from ui.settings import DEFAULT_UI_PORT, is_loopback, load_settings

log = logging.getLogger("otelspend.ui")
APP = Path(ui.__file__).with_name("app.py")
_READY_POLL_S = 0.2
_STOP_GRACE_S = 10.0


def oidc_configured(cwd: Path | None = None) -> bool:
    """An [auth] section in Streamlit's secrets (./.streamlit or ~/.streamlit)."""
    for base in (cwd or Path.cwd(), Path.home()):
        path = base / ".streamlit" / "secrets.toml"
        try:
            if "auth" in tomllib.loads(path.read_text()):
                return True
        except (OSError, tomllib.TOMLDecodeError):
            continue
    return False


def check_access(host: str, env: dict[str, str]) -> None:
    """Refuse to serve beyond loopback without a way to sign in (ValueError says how)."""
    if is_loopback(host) or oidc_configured() or load_settings(env).password_login:
        return
    raise ValueError(
        f"the UI would listen on {host} without sign-in: configure Streamlit OIDC "
        '([auth] in .streamlit/secrets.toml) or `[ui] password = "…"` in otelspend.toml '
        "(OTELSPEND_UI_PASSWORD), or bind it to 127.0.0.1"
    )


def ui_environment(
    db: str,
    host: str,
    *,
    otlp_http: str = "",
    otlp_grpc: str = "",
    actor: str | None = None,
    org: str | None = None,
) -> dict[str, str]:
    """The child's environment: ours plus what ui/settings.py reads."""
    env = dict(os.environ)
    env.update({"OTELSPEND_DB": db, "OTELSPEND_UI_HOST": host})
    for name, value in (
        ("OTELSPEND_UI_OTLP_HTTP", otlp_http),
        ("OTELSPEND_UI_OTLP_GRPC", otlp_grpc),
        ("OTELSPEND_ACTOR", actor),
        ("OTELSPEND_ORG", org),
    ):
        if value:
            env[name] = value
    return env


def streamlit_command(host: str, port: int) -> list[str]:
    """`python -m streamlit run ui/app.py` headless, without telemetry or file watching."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host, "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal", "--theme.base", "light",
    ]  # fmt: skip


@dataclass
class UiProcess:
    """A running UI: its process and the URL people open."""

    proc: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, host: str, port: int, env: dict[str, str], *, quiet: bool = False) -> UiProcess:
        """Start Streamlit (returns at once; see wait_ready)."""
        out = subprocess.DEVNULL if quiet else None
        proc = subprocess.Popen(streamlit_command(host, port), env=env, stdout=out, stderr=out)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return cls(proc, f"http://{shown}:{port}")

    def wait_ready(self, timeout_s: float = 30.0) -> bool:
        """Poll Streamlit's health endpoint; False if it died or never answered."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(_READY_POLL_S)
        return False

    def stop(self) -> None:
        """Terminate the UI (SIGTERM, then SIGKILL after a grace period)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(_STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_for_serve(
    db: str, host: str, port: int, http_port: int, grpc_port: int
) -> UiProcess | None:
    """The UI beside `serve`; None (with a warning) when it cannot run — serve goes on."""
    env = ui_environment(
        db,
        host,
        otlp_http=f"http://{host}:{http_port}",
        otlp_grpc=f"http://{host}:{grpc_port}",
    )
    try:
        check_access(host, env)
    except ValueError as exc:
        log.warning("UI not started: %s (or pass --no-ui)", exc)
        return None
    try:
        return UiProcess.start(host, port, env, quiet=True)
    except OSError as exc:
        log.warning("UI not started: %s", exc)
        return None


__all__ = ["DEFAULT_UI_PORT", "UiProcess", "check_access", "start_for_serve", "ui_environment"]
