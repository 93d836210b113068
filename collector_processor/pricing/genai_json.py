"""The genai-prices data JSON format (a list of providers), read and written.

Written so the bundled package data can be stored as a price snapshot: a later upgrade of the
package then cannot change what an older version priced.  Read with genai-prices' own
validator, so anything its published data.json holds is understood.  Usage extractors are
not written: pricing never uses them.
"""

from __future__ import annotations

import dataclasses
from datetime import date, time
from decimal import Decimal
from typing import Any

import pydantic
from genai_prices import types as gp

_MAX_ERRORS_SHOWN = 3


class CatalogFormatError(ValueError):
    """A price file that cannot be read as the format it claims; the message says why."""


def providers_to_raw(providers: list[gp.Provider]) -> list[Any]:
    """genai-prices providers as the plain JSON-able data its data.json holds."""
    return [_raw(p) for p in providers]


def _raw(value: Any) -> Any:
    if isinstance(value, gp.ModelPrice):
        return {k: _raw(v) for k, v in value.__dict__.items() if v is not None and k[0] != "_"}
    if isinstance(value, gp.TieredPrices):
        return {"base": _raw(value.base), "tiers": [_raw(t) for t in value.tiers]}
    if isinstance(value, gp.ClauseOr):
        return {"or": [_raw(c) for c in value.or_]}
    if isinstance(value, gp.ClauseAnd):
        return {"and": [_raw(c) for c in value.and_]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _raw(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None and f.name[0] != "_" and f.name != "extractors"
        }
    if isinstance(value, list):
        return [_raw(v) for v in value]
    if isinstance(value, dict):
        return {k: _raw(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)  # exact: never through float
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def parse_genai_prices(raw: Any) -> list[gp.Provider]:
    """Validate genai-prices data JSON (already decoded); CatalogFormatError says what is wrong."""
    if not isinstance(raw, list):
        raise CatalogFormatError(
            f"genai-prices data is a JSON list of providers, this file holds a {_kind(raw)}"
        )
    for i, provider in enumerate(raw):
        if isinstance(provider, dict):
            provider.pop("extractors", None)  # pricing never reads them; skip their validation
        else:
            raise CatalogFormatError(f"provider #{i} is a {_kind(provider)}, not a JSON object")
    try:
        # The package's own reader of its data.json (private name, pinned package version).
        return gp._providers_from_raw(raw)
    except pydantic.ValidationError as exc:
        raise CatalogFormatError(_summarize(exc, raw)) from None
    except (TypeError, ValueError) as exc:
        raise CatalogFormatError(f"not genai-prices data: {exc}") from None


def _summarize(exc: pydantic.ValidationError, raw: list[Any]) -> str:
    errors = exc.errors()
    if errors and not isinstance(errors[0]["loc"][0], int):
        # Price sets are validated before the providers, so the error has no location.
        return f"not valid genai-prices data: {_price_error(raw) or exc}"
    parts = []
    for err in errors[:_MAX_ERRORS_SHOWN]:
        loc = list(err["loc"])
        where = _where(loc, raw)
        parts.append(f"{where}: {err['msg']}")
    more = len(errors) - len(parts)
    tail = f" (and {more} more problems)" if more > 0 else ""
    return "not valid genai-prices data: " + "; ".join(parts) + tail


def _price_error(raw: list[Any]) -> str:
    """Find the first model whose price set does not validate, and say what is wrong."""
    for provider in raw:
        for model in provider.get("models") or []:
            if not isinstance(model, dict):
                continue
            try:
                gp._normalize_prices_field(model.get("prices", {}))
            except pydantic.ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"])
                where = f"provider {provider.get('id')!r} model {model.get('id')!r}"
                return f"{where} prices ({field}): {err['msg']}"
    return ""


def _where(loc: list[Any], raw: list[Any]) -> str:
    """Name the provider (and model) an error is in, by id rather than by index."""
    path = ".".join(str(p) for p in loc)
    try:
        provider = raw[int(loc[0])]
        where = f"provider {provider['id']!r}" if "id" in provider else f"provider #{loc[0]}"
        if len(loc) > 2 and loc[1] == "models":
            model = provider["models"][int(loc[2])]
            where += f" model {model.get('id', loc[2])!r}"
        return f"{where} ({path})"
    except (IndexError, KeyError, TypeError, ValueError, AttributeError):
        return path


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "JSON object", list: "JSON list", str: "string",
                              int: "number", float: "number", Decimal: "number",
                              bool: "boolean"}  # fmt: skip
    return names.get(type(value), "value")
