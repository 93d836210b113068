"""Page state lives in the URL (st.query_params), so any view can be linked to.

A widget is bound to a query parameter: on each run the URL value wins when it changed
since the page last wrote it (someone opened a link), otherwise the widget keeps what the
person chose; after the widgets are read, the page publishes their values back to the URL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

_LAST = "_url_last"


def url_value(name: str, default: str = "") -> str:
    """One query parameter ('' when absent)."""
    value = st.query_params.get(name)
    return default if value is None else str(value)


def url_list(name: str) -> list[str]:
    """A repeatable query parameter (?agent=a&agent=b, or one comma-separated value)."""
    out: list[str] = []
    for value in st.query_params.get_all(name):
        out += [v for v in str(value).split(",") if v]
    return out


def url_int(name: str) -> int | None:
    """An integer parameter, None when absent or not a number."""
    try:
        return int(url_value(name))
    except ValueError:
        return None


def bind(key: str, from_url: Any) -> None:
    """Seed widget `key` from the URL when the URL changed since this page last wrote it."""
    last: dict[str, Any] = st.session_state.setdefault(_LAST, {})
    if key not in st.session_state or last.get(key) != from_url:
        st.session_state[key] = from_url
        last[key] = from_url


def publish(values: Mapping[str, str | Sequence[str] | None], keys: Mapping[str, Any]) -> None:
    """Write parameters to the URL (empty ones are removed) and remember what was written."""
    last: dict[str, Any] = st.session_state.setdefault(_LAST, {})
    for name, value in values.items():
        if value in (None, "", [], ()):
            if name in st.query_params:
                del st.query_params[name]
        elif isinstance(value, str):
            if st.query_params.get(name) != value:
                st.query_params[name] = value
        elif st.query_params.get_all(name) != list(value):
            st.query_params[name] = list(value)
    last.update(keys)
