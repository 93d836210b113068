"""A page rendered in this process (Streamlit's AppTest) must not break the "spawn" worker
processes started by later tests: conftest's `_real_main_module` puts the interpreter's
__main__ back.  The two tests run in this order (pytest keeps definition order)."""

from __future__ import annotations

import sys

import pytest

from collector_processor.prepare_pool import PreparePool
from tests.ui.conftest import KnownStore
from tests.ui.test_pages import run_page

REAL_MAIN = sys.modules["__main__"]  # at collection, before any page ran


@pytest.mark.parametrize("ui_env", ["sqlite"], indirect=True)
def test_a_page_rendered_in_this_process(ui_env: KnownStore) -> None:
    at = run_page("prices")
    assert [t.label for t in at.tabs][:1] == ["Unpriced models"]


def test_decode_workers_start_after_a_page_was_rendered() -> None:
    # A spawned worker first re-runs its parent's __main__ script: it must be the real one,
    # not ui/app.py (run outside Streamlit, it fails and the pool breaks).
    assert sys.modules["__main__"] is REAL_MAIN
    pool = PreparePool(1)
    try:
        pool.warm_up()
    finally:
        pool.close()
