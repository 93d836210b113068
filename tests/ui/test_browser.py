"""The real thing in a real browser: `otelspend ui` on loopback, every page in headless
Chromium (Debian's package, installed by scripts/ensure-chromium.sh when missing), a
screenshot of each, and a failure when a page shows an exception or lacks its key figures.

Screenshots go to $OTELSPEND_TEST_ARTIFACTS (default: a pytest temp dir, printed).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.ui.cdp import Browser
from tests.ui.conftest import T1, KnownStore

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]
OTELSPEND = str(Path(sys.executable).with_name("otelspend"))


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a headless-capable Chromium (installed with apt-get on first use)."""
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "ensure-chromium.sh")],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if out.returncode != 0:
        pytest.fail(f"no chromium: {out.stderr[-2000:]}", pytrace=False)
    return out.stdout.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def ui_url(known_store: KnownStore, tmp_path: Path) -> Iterator[str]:
    """`otelspend ui` on 127.0.0.1 and a free port, acting as the admin `boss`."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTELSPEND_")}
    env.update({"OTELSPEND_ACTOR": "boss", "OTELSPEND_ORG": "acme"})
    proc = subprocess.Popen(
        [OTELSPEND, "ui", "--db", known_store.db, "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        assert line.startswith("otelspend UI: http://127.0.0.1:"), line + proc.stdout.read()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


def _pages(store: KnownStore) -> list[tuple[str, str, list[str]]]:
    """(screenshot name, path, text that must be on the page)."""
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    why = urlencode(
        {
            "budget": store.user_budget_id,
            "user": "alice",
            "window_start": day.isoformat(),
            "window_end": (day + timedelta(days=1)).isoformat(),
            "sort": "cost",
        }
    )
    return [
        ("overview", "", ["Spend overview", "This month", "$0.1380", "0.1% of $100.00 org budget"]),
        ("budgets", "budgets", ["Budgets in force", "Alert feed", "Why did a budget blow?"]),
        ("traces", "traces?range=24h", ["Traces, costliest first (3)", "Sessions, costliest"]),
        ("why", f"traces?{why}", ["Why? Budget", "Spent in this window", "$0.1260"]),
        ("trace", f"trace?id={T1}", ["Waterfall", "$0.0360", "Evaluation tags"]),
        ("requests", "requests", ["Ask for more", "Audit log"]),
        ("prices", "prices", ["model(s) without a price", "Cost accuracy"]),
        ("keys", "keys", ["New key", "Keys"]),
    ]


def test_every_page_renders_in_chromium(
    chromium: str, ui_url: str, known_store: KnownStore, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("OTELSPEND_TEST_ARTIFACTS", tmp_path / "artifacts"))
    shots.mkdir(parents=True, exist_ok=True)
    browser = Browser(chromium, tmp_path / "profile")
    problems = []
    try:
        for name, path, needles in _pages(known_store):
            started = time.monotonic()
            browser.open(f"{ui_url}/{path}")
            text = browser.wait_for(needles, timeout_s=45)
            time.sleep(0.5)  # charts draw after the text
            browser.screenshot(shots / f"{name}.png")
            if browser.count('[data-testid="stException"]'):
                problems.append(f"{name}: the page shows an exception")
            missing = [n for n in needles if n not in text]
            if missing:
                problems.append(
                    f"{name}: missing {missing} (after {time.monotonic() - started:.0f} s)"
                )
            if not browser.count("canvas, svg.marks") and name in ("overview", "budgets", "trace"):
                problems.append(f"{name}: no chart was drawn")
    finally:
        browser.close()
    print(f"screenshots in {shots}")
    assert not problems, problems
