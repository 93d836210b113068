"""Arguments and store access the `otelspend prices` commands share."""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import click
from sqlalchemy import Engine

from otelspend.actor import to_json
from otelspend.timeparse import parse_since
from store.engine import make_engine
from store.migrate import upgrade
from store.prices import ensure_bundled_version


def open_prices(db: str) -> Engine:
    """Open and migrate the store; make sure the bundled catalog is stored as a version."""
    engine = make_engine(db)
    upgrade(engine)
    ensure_bundled_version(engine)
    return engine


def parse_moment(value: str, option: str) -> datetime:
    """A date / date-time (UTC unless it names an offset) or a duration back from now."""
    try:
        return parse_since(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: use a date (2026-11-01), a date-time (2026-11-01T09:00, UTC unless "
            "it has an offset) or a duration back from now (2d, 12h)",
            param_hint=option,
        ) from None


def parse_decimal(value: str | None, option: str, *, positive: bool = False) -> Decimal | None:
    """An exact decimal from the command line (never a float)."""
    if value is None:
        return None
    try:
        number = Decimal(value.strip().lstrip("$"))
    except InvalidOperation:
        raise click.BadParameter(f"not a number: {value!r}", param_hint=option) from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        sign = "positive" if positive else "zero or positive"
        raise click.BadParameter(f"must be {sign}: {value!r}", param_hint=option)
    return number


def actor_name(actor: str | None) -> str:
    """Who the audit log names: `--as`, else the login name."""
    return actor or getpass.getuser() or "unknown"


def echo_records(records: Sequence[Any]) -> None:
    """Print slotted dataclass records as a JSON list (datetimes as ISO strings)."""
    rows = [{f: getattr(r, f) for f in r.__slots__} for r in records]
    click.echo(json.dumps(rows, indent=2, default=to_json))
