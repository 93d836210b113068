"""Config file support: a TOML file whose keys mirror the command-line flags.

Precedence: command-line flag > OTELSPEND_* environment variable > config file > default.
Top-level keys apply to every command that has the flag; a [serve] (or [spend], ...) table
applies to that command only.  Flag names use underscores: otlp_http_port = 4318.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = "otelspend.toml"
_COMMANDS = ("serve", "spend", "keys", "prices", "migrate", "ui")


def load_default_map(path: str | None) -> dict[str, Any]:
    """Return click's default_map from the config file (empty when there is none)."""
    if path is None:
        if not Path(DEFAULT_CONFIG_FILE).is_file():
            return {}
        path = DEFAULT_CONFIG_FILE
    try:
        data = tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ValueError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {path} is not valid TOML: {exc}") from None
    shared = {k: v for k, v in data.items() if not isinstance(v, dict)}
    unknown = [k for k, v in data.items() if isinstance(v, dict) and k not in _COMMANDS]
    if unknown:
        raise ValueError(f"config file {path}: unknown section(s) {', '.join(unknown)}")
    out: dict[str, Any] = {}
    for cmd in _COMMANDS:
        section = data.get(cmd, {})
        merged = {**shared, **section}
        if cmd in ("keys", "prices"):  # groups: pass the shared values to their subcommands
            out[cmd] = {sub: merged for sub in ("create", "list", "revoke", "unpriced")}
        else:
            out[cmd] = merged
    return out
