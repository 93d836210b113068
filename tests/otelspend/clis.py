"""The real coding CLIs for end-to-end tests: pinned npm installs, cached outside the repo.

`install_clis()` runs `npm install --prefix <cache>` once per set of pins and reuses it while
every package.json there still has the pinned version.  The cache is
$OTELSPEND_TEST_NPM_CACHE, else ~/.cache/otelspend-test-npm.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The versions the shared real-client fixtures were captured with, plus Gemini CLI.
PINS = {
    "@anthropic-ai/claude-code": "2.1.197",
    "@openai/codex": "0.169.0",
    "@google/gemini-cli": "0.61.0",
}
BINARIES = {
    "@anthropic-ai/claude-code": "claude",
    "@openai/codex": "codex",
    "@google/gemini-cli": "gemini",
}
_NPM_TIMEOUT_S = 900
_RUN_TIMEOUT_S = 180


@dataclass(frozen=True)
class InstalledClis:
    """Where the pinned CLIs are and the Node.js that runs them."""

    prefix: Path
    node_major: int

    @property
    def bin_dir(self) -> Path:
        return self.prefix / "node_modules" / ".bin"

    def path(self, name: str) -> str:
        """Absolute path of one CLI's executable."""
        return str(self.bin_dir / name)


def cache_root() -> Path:
    """Where npm installs and secure scratch directories live (never inside the repo)."""
    configured = os.environ.get("OTELSPEND_TEST_NPM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "otelspend-test-npm"


def npm_missing_reason() -> str | None:
    """Why the CLIs cannot be installed here (None when npm and node are available)."""
    for tool in ("npm", "node"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (make test installs it: scripts/ensure-apt.sh)"
    return None


def install_clis() -> InstalledClis:
    """Install (or reuse) the pinned CLIs; raises CalledProcessError when npm fails."""
    digest = hashlib.sha256(json.dumps(PINS, sort_keys=True).encode()).hexdigest()[:12]
    prefix = cache_root() / f"clis-{digest}"
    if not _installed(prefix):
        prefix.mkdir(parents=True, exist_ok=True)
        packages = [f"{name}@{version}" for name, version in PINS.items()]
        subprocess.run(
            ["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
             "--loglevel=error", *packages],
            check=True, timeout=_NPM_TIMEOUT_S, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if not _installed(prefix):
            raise RuntimeError(f"npm install into {prefix} did not produce the pinned CLIs")
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    return InstalledClis(prefix, int(version.stdout.strip().lstrip("v").split(".")[0]))


def _installed(prefix: Path) -> bool:
    for name, version in PINS.items():
        manifest = prefix / "node_modules" / name / "package.json"
        binary = prefix / "node_modules" / ".bin" / BINARIES[name]
        try:
            if json.loads(manifest.read_text())["version"] != version or not binary.exists():
                return False
        except (OSError, ValueError, KeyError):
            return False
    return True


def run_cli(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run a CLI non-interactively (no stdin, bounded time)."""
    return subprocess.run(
        list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, timeout=_RUN_TIMEOUT_S,
    )  # fmt: skip


def base_env(home: Path, *extra_path: Path) -> dict[str, str]:
    """A clean environment: no inherited OTEL/provider settings, HOME in a scratch dir."""
    keep = ("PATH", "LANG", "TERM", "SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = os.pathsep.join([*map(str, extra_path), env.get("PATH", "/usr/bin:/bin")])
    env.update(HOME=str(home), USERPROFILE=str(home), NO_COLOR="1", CI="true")
    return env


def wait_for(read: Callable[[], Any], expected: Any, timeout_s: float = 20.0) -> Any:
    """Poll `read()` until it equals `expected` (telemetry arrives after the CLI exits)."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.5)
        value = read()
    return value
