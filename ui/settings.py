"""What the UI process is told by `otelspend ui` / `otelspend serve`: environment and config.

Precedence as everywhere in otelspend: environment (OTELSPEND_*) > config file > default.
The config file is $OTELSPEND_CONFIG, else ./otelspend.toml; its `[ui]` table may hold
`password` (members) and `admin_password` (admins) for sign-in without OIDC.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.engine import DEFAULT_DB_URL

DEFAULT_UI_PORT = 8501
DEFAULT_OTLP_HTTP = "http://127.0.0.1:4318"
DEFAULT_OTLP_GRPC = "http://127.0.0.1:4317"
_CONFIG_FILE = "otelspend.toml"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: the only binds that need no sign-in."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _config_ui(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("OTELSPEND_CONFIG") or (_CONFIG_FILE if Path(_CONFIG_FILE).is_file() else "")
    if not path or not Path(path).is_file():
        return {}
    data = tomllib.loads(Path(path).read_text())
    section = data.get("ui", {})
    return section if isinstance(section, dict) else {}


@dataclass(frozen=True, slots=True)
class UiSettings:
    """Settings of one UI process."""

    db: str = DEFAULT_DB_URL
    host: str = "127.0.0.1"
    actor: str = ""  # who a local (loopback) UI acts as; "" = the login name
    org: str = ""  # the org shown first; "" = the one with the latest spend
    password: str = ""
    admin_password: str = ""
    otlp_http: str = DEFAULT_OTLP_HTTP
    otlp_grpc: str = DEFAULT_OTLP_GRPC

    @property
    def local(self) -> bool:
        """Bound to loopback: no sign-in, the UI acts as the local actor (as the CLI does)."""
        return is_loopback(self.host)

    @property
    def password_login(self) -> bool:
        """A password from the config enables the built-in sign-in form."""
        return bool(self.password or self.admin_password)


def load_settings(env: Mapping[str, str] | None = None) -> UiSettings:
    """Read the settings from the environment and the config file's [ui] table."""
    env = os.environ if env is None else env
    ui = _config_ui(env)
    return UiSettings(
        db=env.get("OTELSPEND_DB", DEFAULT_DB_URL),
        host=env.get("OTELSPEND_UI_HOST", "127.0.0.1"),
        actor=env.get("OTELSPEND_ACTOR", ""),
        org=env.get("OTELSPEND_ORG", ""),
        password=env.get("OTELSPEND_UI_PASSWORD", str(ui.get("password", ""))),
        admin_password=env.get("OTELSPEND_UI_ADMIN_PASSWORD", str(ui.get("admin_password", ""))),
        otlp_http=env.get("OTELSPEND_UI_OTLP_HTTP", DEFAULT_OTLP_HTTP),
        otlp_grpc=env.get("OTELSPEND_UI_OTLP_GRPC", DEFAULT_OTLP_GRPC),
    )
