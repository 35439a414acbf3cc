"""The Alembic history produces exactly the schema the code declares, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import creditbank.accounts.credential_rows  # noqa: F401  (registers issued credentials)
import creditbank.accounts.tables  # noqa: F401  (registers the read models)
import creditbank.ledger.cosigned_store  # noqa: F401  (cosigned checkpoints, h5)
import creditbank.ledger.sql  # noqa: F401  (registers the log tables)
from creditbank.accounts.migrate import current_revision, head_revision, upgrade


def test_migrations_match_the_models_and_are_idempotent(engine: Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)  # a second run changes nothing
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        assert conn.execute(text("SELECT size FROM log_head")).scalar_one() == 0


def test_migrated_log_tables_are_append_only(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO log_keys (vkey, created_at) VALUES ('k+00000000+AA', '2026-01-01')")
        )
    for statement in ("UPDATE log_keys SET vkey = 'x'", "DELETE FROM log_keys"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
