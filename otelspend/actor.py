"""What the budget, alert, request, audit and member commands share: the acting identity,
the org, argument parsing (money, dates, scopes) and config-file defaults.

The CLI acts as a named actor: `--as NAME`, else OTELSPEND_ACTOR, else `actor = "NAME"` in
otelspend.toml, else the login name.  Top-level keys of the config file (db, actor, org)
apply to these commands too.
"""

from __future__ import annotations

import getpass
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlalchemy import Engine

from otelspend.config import DEFAULT_CONFIG_FILE
from store.engine import DEFAULT_DB_URL, make_engine
from store.identity import ensure_default_identity
from store.members import Actor, PermissionDenied, resolve_actor
from store.migrate import upgrade
from store.subjects import OrgInfo, find_org

NANO_PER_USD = 1_000_000_000
_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}

DB_OPTION = click.option(
    "--db",
    envvar="OTELSPEND_DB",
    default=DEFAULT_DB_URL,
    show_default=True,
    help="Database URL or a file path.",
)
ACTOR_OPTION = click.option(
    "--as",
    "actor",
    envvar="OTELSPEND_ACTOR",
    default=None,
    help="Act as this member (default: $OTELSPEND_ACTOR, config `actor`, login name).",
)
ORG_OPTION = click.option(
    "--org", envvar="OTELSPEND_ORG", default="default", show_default=True, help="The org."
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def group_defaults(ctx: click.Context, group: click.Group) -> None:
    """Give a group's subcommands the config file's top-level values (db, actor, org)."""
    path = ctx.find_root().params.get("config") or (
        DEFAULT_CONFIG_FILE if Path(DEFAULT_CONFIG_FILE).is_file() else None
    )
    if path is None:
        return
    data = tomllib.loads(Path(path).read_text())  # `main` has already validated the file
    shared = {k: v for k, v in data.items() if not isinstance(v, dict)}
    ctx.default_map = {name: shared for name in group.commands}


@dataclass(frozen=True, slots=True)
class Acting:
    """An open store, the org a command works on, and who runs it."""

    engine: Engine
    org: OrgInfo
    actor: Actor


def acting(db: str, org: str, actor: str | None) -> Acting:
    """Open (and migrate) the store, find the org and resolve the actor's role."""
    engine = make_engine(db)
    upgrade(engine)
    if org == "default":
        ensure_default_identity(engine)
    try:
        with engine.begin() as conn:
            info = find_org(conn, org)
            who = resolve_actor(conn, info, actor or getpass.getuser())
    except (LookupError, PermissionDenied) as exc:
        raise click.ClickException(str(exc)) from exc
    return Acting(engine, info, who)


def parse_usd(value: str) -> int:
    """'50', '$12.50' -> integer nano-USD (exact, via Decimal); positive only."""
    try:
        amount = Decimal(value.strip().lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise click.BadParameter(f"not an amount of dollars: {value!r}") from None
    nano = amount * NANO_PER_USD
    if not amount.is_finite() or amount <= 0 or nano != nano.to_integral_value():
        raise click.BadParameter(f"amount must be positive, at most 9 decimals: {value!r}")
    return int(nano)


def parse_until(value: str, zone: str, now: datetime | None = None) -> datetime:
    """An expiry: '7d' / '12h' from now; a date = through the end of that day in the org's
    zone; a date-time (org zone unless it names an offset)."""
    now = now or datetime.now(UTC)
    m = _DURATION.match(value)
    if m:
        return now + timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use a date (2026-12-01, inclusive), a date-time or a duration (7d)"
        ) from None
    tz = ZoneInfo(zone)
    if len(value.strip()) == 10:  # a bare date: the whole day counts
        return (parsed.replace(tzinfo=tz) + timedelta(days=1)).astimezone(UTC)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)


def parse_scope(value: str) -> tuple[str, str | None]:
    """'user:alice' -> ('user', 'alice'); 'org' -> ('org', None)."""
    kind, _, name = value.partition(":")
    kind = kind.strip().lower()
    if kind not in ("org", "workspace", "user", "key"):
        raise click.BadParameter("scope must be org, workspace:NAME, user:NAME or key:PREFIX")
    return kind, (name.strip() or None)


def fail(exc: Exception) -> click.ClickException:
    """A domain error as a CLI error (exit 1, message on stderr)."""
    return click.ClickException(str(exc))


def to_json(value: Any) -> Any:
    """datetimes -> ISO strings, for json.dumps(default=...)."""
    return value.isoformat() if isinstance(value, datetime) else str(value)
