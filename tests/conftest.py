"""Shared fixtures: real databases for every test that needs one.

PostgreSQL tests read the server URL from ``CREDITBANK_TEST_DATABASE_URL`` (``.ci/run`` sets it).
When it is set they must run; when it is unset (a laptop without PostgreSQL) they skip and say why.
Each PostgreSQL test gets a schema of its own, dropped afterwards, so tests never see each other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from creditbank.ledger.database import make_engine

PG_ENV = "CREDITBANK_TEST_DATABASE_URL"


def postgres_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'creditbank.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """``(url, schema)`` of a fresh, empty PostgreSQL schema for this test."""
    url = postgres_url()
    if url is None:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    schema = "t_" + secrets.token_hex(6)
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def pg_engine(pg_schema: tuple[str, str]) -> Iterator[Engine]:
    url, schema = pg_schema
    engine = make_engine(url, schema=schema)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_engine")  # type: ignore[no-any-return]
    return request.getfixturevalue("sqlite_engine")  # type: ignore[no-any-return]


CHROMIUM_ENV = "CREDITBANK_TEST_CHROMIUM"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Debian Chromium per test process, shared by every browser test.

    Playwright's sync API runs one event loop per process, so the page tests and the crypto tests
    must share this one. The path comes from ``CREDITBANK_TEST_CHROMIUM`` (``.ci/run`` sets it);
    without it the browser tests skip and say why; set to a missing file, they fail.
    """
    path = os.environ.get(CHROMIUM_ENV)
    if not path:
        pytest.skip(f"browser tests need {CHROMIUM_ENV}=/usr/bin/chromium (Debian's chromium)")
    if not Path(path).is_file():
        pytest.fail(f"{CHROMIUM_ENV}={path} does not exist")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
