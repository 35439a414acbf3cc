"""Fixtures of the API tests: the demo world on SQLite and on PostgreSQL, and an HTTP client.

A world is built once per test module and database (the demo's ledger takes about a second);
tests that change it only add fresh entries, so they never depend on each other's order.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from creditbank.api.app import create_app
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.ledger.database import make_engine
from creditbank.ledger.keys import generate_key
from tests.api.world import World, open_world
from tests.conftest import PG_ENV, postgres_url


def _engine(kind: str, tmp: Path) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'creditbank.db'}")
        yield engine
        engine.dispose()
        return
    url = postgres_url()
    if url is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV}")
    schema = "t_" + secrets.token_hex(6)
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, schema=schema)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The demo world, once per module, on each database."""
    tmp = tmp_path_factory.mktemp(f"world-{request.param}")
    for engine in _engine(request.param, tmp):
        yield open_world(engine, tmp)


@pytest.fixture(scope="module")
def sqlite_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The demo world on SQLite only, for tests whose subject is not the database."""
    tmp = tmp_path_factory.mktemp("world-sqlite-only")
    for engine in _engine("sqlite", tmp):
        yield open_world(engine, tmp)


def _issuer() -> CredentialIssuer:
    return CredentialIssuer(generate_key(), "http://testserver")


@pytest.fixture(scope="module")
def http(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.bank, credential_issuer=_issuer())) as client:
        yield client


@pytest.fixture(scope="module")
def sqlite_http(sqlite_world: World) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_world.bank, credential_issuer=_issuer())) as client:
        yield client
