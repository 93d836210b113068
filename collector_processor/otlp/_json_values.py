"""OTLP/JSON scalar fields, ids and AnyValue → plain Python, with paths in every error.

OTLP/JSON differs from protobuf's canonical JSON: ids are hex (not base64), and 64-bit
integers may be JSON numbers or decimal strings.  Field names are lowerCamelCase; the
snake_case spelling is accepted too.  A `Malformed` carries the path below the point it
was raised; each enclosing level prefixes its own segment on the way out.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from semconv.records import Attributes

_U64_LIMIT = 1 << 64
_I64_MIN, _I64_LIMIT = -(1 << 63), 1 << 63
_SHOWN_CHARS = 40


class Malformed(Exception):
    """A field of the document is invalid; `path` locates it, `problem` says what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem

    def under(self, segment: str) -> Malformed:
        """Return the same error located one level further out, below `segment`."""
        if not self.path:
            return Malformed(segment, self.problem)
        joiner = "" if self.path.startswith("[") else "."
        return Malformed(f"{segment}{joiner}{self.path}", self.problem)


def show(value: Any) -> str:
    """Describe a received JSON value briefly for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def get(doc: dict[str, Any], camel: str, snake: str) -> Any:
    """Read a field by its lowerCamelCase name, falling back to its snake_case name."""
    value = doc.get(camel)
    return doc.get(snake) if value is None else value


def obj(value: Any) -> dict[str, Any]:
    """Return `value` if it is a JSON object."""
    if type(value) is dict:
        return value
    raise Malformed("", f"expected an object, got {show(value)}")


def array(doc: dict[str, Any], camel: str, snake: str) -> list[Any]:
    """Read an array field; absent or null is empty."""
    value = get(doc, camel, snake)
    if type(value) is list:
        return value
    if value is None:
        return []
    raise Malformed(camel, f"expected an array, got {show(value)}")


def string(doc: dict[str, Any], camel: str, snake: str) -> str:
    """Read a string field; absent is ""."""
    value = get(doc, camel, snake)
    if type(value) is str:
        return value
    if value is None:
        return ""
    raise Malformed(camel, f"expected a string, got {show(value)}")


def boolean(doc: dict[str, Any], camel: str, snake: str) -> bool:
    """Read a bool field; absent is False."""
    value = get(doc, camel, snake)
    if type(value) is bool:
        return value
    if value is None:
        return False
    raise Malformed(camel, f"expected true or false, got {show(value)}")


def uint64(doc: dict[str, Any], camel: str, snake: str) -> int:
    """Read a uint64 (e.g. a *UnixNano time) given as a JSON number or decimal string."""
    value = get(doc, camel, snake)
    if type(value) is int and 0 <= value < _U64_LIMIT:
        return value
    if value is None:
        return 0
    number = _integer_or_none(value)
    if number is None or not 0 <= number < _U64_LIMIT:
        raise Malformed(camel, f"expected an unsigned 64-bit integer, got {show(value)}")
    return number


def enum(doc: dict[str, Any], camel: str, snake: str, names: dict[str, int]) -> int:
    """Read an enum field given as its number or its name (e.g. "SPAN_KIND_CLIENT")."""
    value = get(doc, camel, snake)
    if type(value) is int:
        return value
    if value is None:
        return 0
    if type(value) is str and value in names:
        return names[value]
    raise Malformed(camel, f"expected an enum number or one of {sorted(names)}, got {show(value)}")


def hex_id(doc: dict[str, Any], camel: str, snake: str, size: int, required: bool) -> str:
    """Read a trace/span id: `2*size` hex characters → lowercase hex; all zero → ""."""
    value = get(doc, camel, snake)
    if value is None or value == "":
        if required:
            raise Malformed(camel, f"expected {2 * size} hex characters, got none")
        return ""
    raw = _id_bytes(value, size)
    if raw is None:
        raise Malformed(camel, f"expected {2 * size} hex characters, got {show(value)}")
    return raw.hex() if raw.count(0) != size else ""


def _id_bytes(value: Any, size: int) -> bytes | None:
    """Decode an id from hex, or from base64 as protobuf's generic JSON writes it; else None."""
    if type(value) is not str:
        return None
    try:
        if len(value) == 2 * size:
            raw = bytes.fromhex(value)
        else:
            raw = base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error is a ValueError
        return None
    return raw if len(raw) == size else None


def _integer_or_none(value: Any) -> int | None:
    """Coerce a JSON number or decimal string holding an integer; None if it is not one."""
    kind = type(value)
    if kind is int:
        return value
    if kind is str:
        try:
            return int(value)
        except ValueError:
            return None
    if kind is float and value.is_integer():
        return int(value)
    return None


def _read_string(value: Any) -> str:
    if type(value) is str:
        return value
    raise Malformed("", f"expected a string, got {show(value)}")


def _read_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise Malformed("", f"expected true or false, got {show(value)}")


def read_int(value: Any) -> int:
    """Read an int64 given as a JSON number or decimal string."""
    number = _integer_or_none(value)
    if number is None or not _I64_MIN <= number < _I64_LIMIT:
        problem = "expected a 64-bit integer (number or decimal string)"
        raise Malformed("", f"{problem}, got {show(value)}")
    return number


def read_double(value: Any) -> float:
    """Read a double given as a JSON number or a string such as "NaN" or "-Infinity"."""
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    if kind is str:
        try:
            return float(value)
        except ValueError:
            pass
    problem = 'expected a number or "NaN"/"Infinity"/"-Infinity"'
    raise Malformed("", f"{problem}, got {show(value)}")


def _read_bytes(value: Any) -> str:
    """Read base64 (standard or URL-safe, padding optional) and render it as lowercase hex."""
    if type(value) is str:
        text = value.replace("-", "+").replace("_", "/")
        try:
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True).hex()
        except (binascii.Error, ValueError):
            pass
    raise Malformed("", f"expected base64 bytes, got {show(value)}")


def _read_array(value: Any) -> list[Any]:
    values = array(obj(value), "values", "values")
    index = 0
    try:
        return [any_value(item) for index, item in enumerate(values)]
    except Malformed as exc:
        raise exc.under(f"values[{index}]") from None


def _read_kvlist(value: Any) -> Attributes:
    return attributes(array(obj(value), "values", "values"), "values")


_VALUE_READERS: dict[str, Callable[[Any], Any]] = {}
for _camel, _snake, _reader in (
    ("stringValue", "string_value", _read_string),
    ("intValue", "int_value", read_int),
    ("doubleValue", "double_value", read_double),
    ("boolValue", "bool_value", _read_bool),
    ("arrayValue", "array_value", _read_array),
    ("kvlistValue", "kvlist_value", _read_kvlist),
    ("bytesValue", "bytes_value", _read_bytes),
):
    _VALUE_READERS[_camel] = _VALUE_READERS[_snake] = _reader


def any_value(value: Any) -> Any:
    """Convert an AnyValue object to a plain value; an empty or null AnyValue is None."""
    if type(value) is not dict:
        if value is None:
            return None
        raise Malformed("", f"expected an AnyValue object, got {show(value)}")
    for key, inner in value.items():
        reader = _VALUE_READERS.get(key)
        if reader is not None and inner is not None:
            try:
                return reader(inner)
            except Malformed as exc:
                raise exc.under(key) from None
    return None


def attributes(pairs: Any, field: str = "attributes") -> Attributes:
    """Convert an array of {"key", "value"} objects to a dict; a repeated key keeps its last."""
    if type(pairs) is not list:
        if pairs is None:
            return {}
        raise Malformed(field, f"expected an array, got {show(pairs)}")
    result: Attributes = {}
    for index, pair in enumerate(pairs):
        key = pair.get("key") if type(pair) is dict else None
        if type(key) is not str:
            problem = 'expected an object with a string "key"'
            raise Malformed(f"{field}[{index}]", f"{problem}, got {show(pair)}")
        value = pair.get("value")
        # Most GenAI attributes are strings: take them without a call (a hot-path shortcut).
        if type(value) is dict and len(value) == 1:
            text = value.get("stringValue")
            if type(text) is str:
                result[key] = text
                continue
        try:
            result[key] = any_value(value)
        except Malformed as exc:
            raise exc.under("value").under(f"{field}[{index}]") from None
    return result
