"""The gateway file's scalars reach GatewayConfig; bad values are refused with the key named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import DEFAULT_PROXY_PROCESSES, load_config


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return str(path)


def test_scalars_from_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, "proxy_processes = 3\nlease_s = 0.5\nlease_keep_warm_s = 0\n")
    cfg = load_config(path, env={})
    assert (cfg.proxy_processes, cfg.lease_s, cfg.lease_keep_warm_s) == (3, 0.5, 0)


def test_one_proxy_process_by_default() -> None:
    assert load_config(None, env={}).proxy_processes == DEFAULT_PROXY_PROCESSES == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("proxy_processes = 0", "proxy_processes must be 1..32, got 0"),
        ("proxy_processes = 33", "proxy_processes must be 1..32, got 33"),
        ("lease_s = 0", "lease_s must be in (0, 60] seconds"),
        ("lease_keep_warm_s = -1", "lease_keep_warm_s must be in [0, 3600] seconds"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_config(_file(tmp_path, line + "\n"), env={})
