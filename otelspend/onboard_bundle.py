"""Bundles for `otelspend onboard --users users.csv --out DIR`: one directory per user.

users.csv has a header row naming the columns `user`, `email`, `workspace` and optionally
`team` (any order, extra columns ignored).  Each bundle directory (mode 0700) holds the
client's files and INSTALL.txt; every file that carries the key is mode 0600, and the key
appears nowhere else (the store keeps only its hash).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from pathlib import Path

from otelspend.onboard import BundleFile, Identity, OnboardSpec

REQUIRED_COLUMNS = ("user", "email", "workspace")
_SAFE_DIR = re.compile(r"[^A-Za-z0-9._@+-]")
_MAX_USERS = 10_000


def read_users(path: Path) -> list[Identity]:
    """Parse users.csv; ValueError naming the line for anything unusable."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ValueError(
                f"{path}: the header row must name the columns user, email, workspace[, team]; "
                f"missing: {', '.join(missing)}"
            )
        reader.fieldnames = columns
        out: list[Identity] = []
        seen: set[str] = set()
        for row in reader:
            line = reader.line_num
            values = {k: (row.get(k) or "").strip() for k in (*REQUIRED_COLUMNS, "team")}
            if not any(values.values()):
                continue  # blank line
            empty = [k for k in REQUIRED_COLUMNS if not values[k]]
            if empty:
                raise ValueError(f"{path}:{line}: empty {', '.join(empty)}")
            if values["user"] in seen:
                raise ValueError(f"{path}:{line}: user {values['user']!r} appears twice")
            seen.add(values["user"])
            out.append(
                Identity(values["user"], values["workspace"], values["email"], values["team"])
            )
    if not out:
        raise ValueError(f"{path}: no users")
    if len(out) > _MAX_USERS:
        raise ValueError(f"{path}: {len(out)} users; split the file (at most {_MAX_USERS})")
    return out


def bundle_dir_name(user: str) -> str:
    """A directory name for a user that is safe on every platform."""
    return _SAFE_DIR.sub("_", user).strip(".") or "user"


def write_bundle(directory: Path, spec: OnboardSpec, files: Iterable[BundleFile]) -> list[Path]:
    """Write one user's bundle; refuses to overwrite an existing directory's files."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    written = []
    files = list(files)
    for f in files:
        written.append(_write_private(directory / f.name, f.content))
    written.append(_write_private(directory / "INSTALL.txt", install_notes(spec, files)))
    return written


def install_notes(spec: OnboardSpec, files: Iterable[BundleFile]) -> str:
    """Where each file goes on macOS, Linux and Windows."""
    who = spec.identity.user if spec.identity else "this user"
    lines = [
        f"otelspend onboarding bundle: {spec.client} for {who}",
        f"Telemetry goes to {spec.server}"
        + (f"; model calls go through the gateway {spec.gateway_base}" if spec.via_gateway else ""),
        "These files contain the user's otelspend key. Install them, then delete this bundle.",
        "",
    ]
    for f in files:
        lines.append(f"{f.name}:")
        lines += [f"  {platform:<8} {path}" for platform, path in f.installs_to]
        lines.append("")
    if spec.client == "claude-code" and spec.hook:
        lines.append(
            "The budget hook runs `otelspend` on the user's machine: install it there "
            "(e.g. `pipx install otelspend`) so that `otelspend` is on PATH."
        )
    return "\n".join(lines).rstrip() + "\n"


def _write_private(path: Path, content: str) -> Path:
    """Create `path` readable by its owner only (O_EXCL: never replace an existing file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(content)
    os.chmod(path, 0o600)  # the umask cannot widen 0600, but a pre-set ACL default might
    return path
