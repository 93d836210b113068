"""A small Chrome DevTools Protocol client: headless Chromium, navigate, read, screenshot.

Enough for the UI's browser test — no Selenium, no driver binary: Chromium listens on a
random loopback port (--remote-debugging-port=0 writes it to DevToolsActivePort) and we talk
to one page target over its websocket.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


# Streamlit scrolls inside its main section, not the body: measure both.
_PAGE_HEIGHT_JS = (
    "Math.max(document.body.scrollHeight, ...[...document.querySelectorAll("
    "'section, [data-testid=stMain]')].map(e => e.scrollHeight))"
)


class Browser:
    """One headless Chromium process and a websocket to its first page."""

    def __init__(self, binary: str, profile: Path, width: int = 1600, height: int = 1200) -> None:
        self.proc = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.width, self.height = width, height
        port = self._port(profile / "DevToolsActivePort")
        self._stack = ExitStack()
        self.ws: ClientConnection = self._stack.enter_context(
            connect(self._page_ws(port), max_size=64 * 2**20)
        )
        self._ids = itertools.count(1)
        self.call("Page.enable")
        self.call("Runtime.enable")

    @staticmethod
    def _port(marker: Path, timeout_s: float = 30.0) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().splitlines()[0])
            time.sleep(0.05)
        raise TimeoutError("Chromium did not open its DevTools port")

    @staticmethod
    def _page_ws(port: int) -> str:
        for _ in range(100):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.05)
        raise TimeoutError("Chromium has no page target")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its result (events in between are skipped)."""
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=60))
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def open(self, url: str) -> None:
        """Navigate (returns at once; use wait_for)."""
        self.call("Page.navigate", url=url)

    def text(self) -> str:
        """The page's visible text."""
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def count(self, selector: str) -> int:
        """How many elements match a CSS selector."""
        return int(self.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length") or 0)

    def wait_for(self, needles: list[str], timeout_s: float = 30.0) -> str:
        """Wait until every needle is in the text and Streamlit stopped running; the text."""
        deadline = time.monotonic() + timeout_s
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            running = self.count('[data-testid="stStatusWidget"]')
            if all(n in text for n in needles) and not running:
                return text
            time.sleep(0.25)
        return text

    def screenshot(self, path: Path) -> None:
        """A PNG of the whole page (the viewport grown to the document's height)."""
        height = int(self.evaluate(_PAGE_HEIGHT_JS) or self.height)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=self.width,
            height=min(max(height, self.height), 6000),
            deviceScaleFactor=1,
            mobile=False,
        )
        time.sleep(0.5)  # let Vega re-render at the new size
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        self.call("Emulation.clearDeviceMetricsOverride")

    def close(self) -> None:
        """Close the websocket and end Chromium."""
        try:
            self._stack.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
