"""The accounts tests' world (a bank with an admin, a provider and a registrar), reused here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.accounts.conftest import World, make_world


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """The world on SQLite and on PostgreSQL."""
    yield from make_world(engine)


@pytest.fixture
def sqlite_world(sqlite_engine: Engine) -> Iterator[World]:
    yield from make_world(sqlite_engine)
