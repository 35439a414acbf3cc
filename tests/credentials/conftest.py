"""Fixtures of the credential tests: the demo world (SQLite and PostgreSQL), an issuer, HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from creditbank.api.app import create_app
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.ledger.keys import generate_key
from tests.api.conftest import _engine
from tests.api.world import World, open_world

BASE_URL = "http://testserver"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"credentials-{request.param}")
    for engine in _engine(request.param, tmp):
        yield open_world(engine, tmp)


@pytest.fixture(scope="module")
def issuer() -> CredentialIssuer:
    return CredentialIssuer(generate_key(), BASE_URL)


@pytest.fixture(scope="module")
def http(world: World, issuer: CredentialIssuer) -> Iterator[TestClient]:
    with TestClient(create_app(world.bank, credential_issuer=issuer)) as client:
        yield client
