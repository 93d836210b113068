"""Fixtures of the budget tests: a `world` on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.collector_processor.budgets.world import World, make_world


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    yield from make_world(db_url)


@pytest.fixture
def sqlite_world(sqlite_url: str) -> Iterator[World]:
    yield from make_world(sqlite_url)
