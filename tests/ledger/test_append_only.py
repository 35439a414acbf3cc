"""The database itself refuses to change or remove log rows (SQLite and PostgreSQL triggers)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.log import Log
from creditbank.ledger.sql import APPEND_ONLY_TABLES, SqlLogStore, create_log_schema

from .conftest import ORIGIN, MakeEntries


def fill(engine: Engine, signer: NoteSigner, make_entries: MakeEntries, now: datetime) -> Engine:
    """A small log with a row in every table."""
    create_log_schema(engine)
    with Log.open(SqlLogStore(engine), origin=ORIGIN, signer=signer) as log:
        log.register_key(now=now)
        log.append(make_entries(4), now=now)
    return engine


@pytest.fixture
def filled(
    engine: Engine, log_signer: NoteSigner, make_entries: MakeEntries, now: datetime
) -> Engine:
    """SQLite, then PostgreSQL."""
    return fill(engine, log_signer, make_entries, now)


@pytest.fixture
def pg_filled(
    pg_engine: Engine, log_signer: NoteSigner, make_entries: MakeEntries, now: datetime
) -> Engine:
    return fill(pg_engine, log_signer, make_entries, now)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in APPEND_ONLY_TABLES
        }


UPDATES = {
    "log_entries": "UPDATE log_entries SET nonce = 'changed-0000' WHERE idx = 1",
    "log_nodes": "UPDATE log_nodes SET hash = hash WHERE level = 0 AND idx = 1",
    "log_checkpoints": "UPDATE log_checkpoints SET note = 'forged'",
    "log_keys": "UPDATE log_keys SET vkey = 'forged'",
}


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_update_is_refused(filled: Engine, table: str) -> None:
    before = counts(filled)
    with pytest.raises(DBAPIError, match="append-only"):
        with filled.begin() as conn:
            conn.execute(text(UPDATES[table]))
    assert counts(filled) == before


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_delete_is_refused(filled: Engine, table: str) -> None:
    before = counts(filled)
    assert before[table] > 0
    with pytest.raises(DBAPIError, match="append-only"):
        with filled.begin() as conn:
            conn.execute(text(f"DELETE FROM {table}"))
    assert counts(filled) == before


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_truncate_is_refused_on_postgres(pg_filled: Engine, table: str) -> None:
    """SQLite has no TRUNCATE (its ``DELETE FROM t`` is covered above)."""
    before = counts(pg_filled)
    with pytest.raises(DBAPIError, match="append-only"):
        with pg_filled.begin() as conn:
            conn.execute(text(f"TRUNCATE {table} CASCADE"))
    assert counts(pg_filled) == before


def test_the_head_moves_only_through_appends(filled: Engine) -> None:
    """``log_head`` is the one mutable row (the writers' lock); the log still has no other path."""
    with filled.connect() as conn:
        assert conn.execute(text("SELECT size FROM log_head WHERE id = 1")).scalar_one() == 4


def test_schema_creation_is_idempotent(filled: Engine) -> None:
    before = counts(filled)
    create_log_schema(filled)
    create_log_schema(filled)
    assert counts(filled) == before
    with pytest.raises(DBAPIError, match="append-only"):
        with filled.begin() as conn:
            conn.execute(text("DELETE FROM log_entries"))
