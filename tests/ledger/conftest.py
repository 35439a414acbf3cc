"""Fixtures for the ledger tests: keys, a fixed clock, entry factories and every store backend.

``log_store`` is the one parametrised fixture behind the store contract: memory, SQLite (a file,
WAL) and PostgreSQL (a schema of its own, from the top-level ``pg_engine`` fixture).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.entry import Entry, SignedEntry, sign_entry
from creditbank.ledger.log import Log
from creditbank.ledger.memory import MemoryLogStore
from creditbank.ledger.sql import SqlLogStore, create_log_schema
from creditbank.ledger.store import LogStore

ORIGIN = "test.creditbank.example/log"

MakeEntries = Callable[..., list[SignedEntry]]


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def actor_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def log_signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def make_entries(actor_key: Ed25519PrivateKey, now: datetime) -> MakeEntries:
    """``make_entries(n, actor="provider-1")``: n signed entries with fresh, unique nonces."""
    counter = itertools.count()

    def make(
        n: int, *, actor: str = "provider-1", key: Ed25519PrivateKey | None = None
    ) -> list[SignedEntry]:
        out = []
        for _ in range(n):
            i = next(counter)
            body: dict[str, Any] = {
                "learner": f"L-{i:06d}",
                "course": {"institution": "OU", "code": f"C{i % 97:03d}"},
                "credits": "3.0",
            }
            entry = Entry.create(
                type="credit.earned", actor=actor, nonce=f"nonce-{i:08d}", body=body, claimed_at=now
            )
            out.append(sign_entry(entry, key or actor_key))
        return out

    return make


@pytest.fixture
def sqlite_store(sqlite_engine: Engine) -> SqlLogStore:
    create_log_schema(sqlite_engine)
    return SqlLogStore(sqlite_engine)


@pytest.fixture
def pg_store(pg_engine: Engine) -> SqlLogStore:
    create_log_schema(pg_engine)
    return SqlLogStore(pg_engine)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def log_store(request: pytest.FixtureRequest) -> LogStore:
    """The store contract runs against every backend."""
    if request.param == "memory":
        return MemoryLogStore()
    return request.getfixturevalue(f"{'pg' if request.param == 'postgres' else 'sqlite'}_store")  # type: ignore[no-any-return]


@pytest.fixture
def ledger(log_store: LogStore, log_signer: NoteSigner, now: datetime) -> Iterator[Log]:
    """A log with its key registered (so it has a checkpoint of the empty tree)."""
    with Log.open(log_store, origin=ORIGIN, signer=log_signer) as log:
        log.register_key(now=now)
        yield log
