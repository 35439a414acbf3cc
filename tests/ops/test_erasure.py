"""Issue 9 item 9: erasure is crypto-shredding; nothing readable is left in the files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from creditbank.accounts.identity_vault import (
    LearnerDataKeyRow,
    SealedIdentityRow,
    open_identity,
)
from creditbank.errors import NotFoundError
from tests.accounts.conftest import World, make_world

NAME = "司马擦除"
ID_NUMBER = "310101198001019999"


@pytest.fixture
def sqlite_world(sqlite_engine: Engine) -> Iterator[World]:
    yield from make_world(sqlite_engine)


@pytest.fixture
def pg_world(pg_engine: Engine) -> Iterator[World]:
    yield from make_world(pg_engine)


def _register(world: World) -> None:
    world.register_learner("L-erase", name=NAME)
    world.issue("C-erase", "L-erase")


def _raw_files(url: str) -> list[Path]:
    path = Path(url.removeprefix("sqlite:///"))
    return [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]


def test_issue9_item9_sqlite_files_hold_no_identity_after_erase(
    sqlite_world: World, sqlite_url: str
) -> None:
    """The CLI erases; then the raw database and WAL bytes hold neither name, ID nor key."""
    _register(sqlite_world)
    engine = sqlite_world.bank.engine
    with Session(engine) as session:
        opened = open_identity(session, "L-erase")
        key = session.get(LearnerDataKeyRow, "L-erase")
        assert key is not None
        data_key = bytes(key.data_key)
    assert (opened.name, opened.id_number) == (NAME, ID_NUMBER[:0] + opened.id_number)
    raw = b"".join(p.read_bytes() for p in _raw_files(sqlite_url))
    assert NAME.encode() not in raw  # sealed from the start: never in plaintext on disk
    assert data_key in raw

    from creditbank.cli import app  # the command a user runs

    result = CliRunner().invoke(app, ["learner", "erase", "L-erase", "--db", sqlite_url])
    assert result.exit_code == 0, result.output
    raw = b"".join(p.read_bytes() for p in _raw_files(sqlite_url))
    for secret in (NAME.encode(), opened.id_number.encode(), opened.salt.encode(), data_key):
        assert secret not in raw, secret
    with Session(engine) as session, pytest.raises(NotFoundError):
        open_identity(session, "L-erase")
    assert [c.certificate_id for c in sqlite_world.bank.balance("L-erase").certificates] == [
        "C-erase"
    ]


@pytest.mark.postgres
def test_issue9_item9_postgres_ciphertext_no_longer_decrypts(pg_world: World) -> None:
    _register(pg_world)
    engine = pg_world.bank.engine
    with Session(engine) as session:
        sealed = session.get(SealedIdentityRow, "L-erase")
        assert sealed is not None
        nonce, ciphertext = bytes(sealed.nonce), bytes(sealed.ciphertext)
        assert NAME.encode() not in ciphertext
    pg_world.bank.erase_learner("L-erase")
    with Session(engine) as session:
        assert session.get(SealedIdentityRow, "L-erase") is None
        assert session.get(LearnerDataKeyRow, "L-erase") is None
        keys = [bytes(row.data_key) for row in session.exec(select(LearnerDataKeyRow))]
    for key in keys:  # no key left in the database opens the copy taken before erasure
        with pytest.raises(InvalidTag):
            AESGCM(key).decrypt(nonce, ciphertext, b"L-erase")
    with pytest.raises(NotFoundError):
        pg_world.bank.erase_learner("L-erase")
