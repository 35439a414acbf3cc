"""The log's tables on SQLite or PostgreSQL, and the DDL that makes them append-only.

:func:`install_append_only_triggers` makes the database itself reject UPDATE, DELETE (and, on
PostgreSQL, TRUNCATE) on the entries, tree-node, checkpoint and log-key tables; ``log_head`` is the
one mutable row (the tree size, which writers lock). ``log_learner_heads`` is mutable too (one row
per learner, replaced by the batch that moves its head): a cache of what the leaves say, never a
source of truth (see :mod:`creditbank.ledger.chain`). The store that reads and writes these tables
is :mod:`creditbank.ledger.sql`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Engine, LargeBinary, Table, UniqueConstraint
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel

__all__ = [
    "APPEND_ONLY_TABLES",
    "CHECKPOINT_COLUMNS",
    "CHECKPOINTS",
    "ENTRIES",
    "HEAD",
    "LEARNER_HEADS",
    "LogCheckpointRow",
    "LogEntryRow",
    "LogHeadRow",
    "LogKeyRow",
    "LogLearnerHeadRow",
    "LogNodeRow",
    "append_only_trigger_sql",
    "create_log_schema",
    "install_append_only_triggers",
]

#: Rows of these tables never change once written.
APPEND_ONLY_TABLES = ("log_entries", "log_nodes", "log_checkpoints", "log_keys")


class LogEntryRow(SQLModel, table=True):
    __tablename__ = "log_entries"
    __table_args__ = (UniqueConstraint("actor", "nonce", name="uq_log_entries_actor_nonce"),)

    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    leaf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    actor: str = Field(max_length=128)
    nonce: str = Field(max_length=128)
    entry_type: str = Field(max_length=64, index=True)


class LogNodeRow(SQLModel, table=True):
    __tablename__ = "log_nodes"

    level: int = Field(primary_key=True)
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LogCheckpointRow(SQLModel, table=True):
    __tablename__ = "log_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str
    created_at: datetime


class LogKeyRow(SQLModel, table=True):
    __tablename__ = "log_keys"

    vkey: str = Field(primary_key=True, max_length=256)
    created_at: datetime


class LogHeadRow(SQLModel, table=True):
    __tablename__ = "log_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))


class LogLearnerHeadRow(SQLModel, table=True):
    """A learner's chain head: entry count, index and leaf hash of the last entry about them."""

    __tablename__ = "log_learner_heads"

    learner: str = Field(primary_key=True, max_length=128)
    count: int = Field(sa_column=Column(BigInteger, nullable=False))
    # Indexed: a process catching up reads only the heads that moved since it last looked.
    head_idx: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    head_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


ENTRIES: Table = LogEntryRow.__table__  # type: ignore[attr-defined]
HEAD: Table = LogHeadRow.__table__  # type: ignore[attr-defined]
LEARNER_HEADS: Table = LogLearnerHeadRow.__table__  # type: ignore[attr-defined]
CHECKPOINTS: Table = LogCheckpointRow.__table__  # type: ignore[attr-defined]
CHECKPOINT_COLUMNS = sa_select(
    CHECKPOINTS.c.tree_size,
    CHECKPOINTS.c.root_hash,
    CHECKPOINTS.c.note,
    CHECKPOINTS.c.created_at,
)

_LOG_TABLES = [
    LogEntryRow.__table__,  # type: ignore[attr-defined]
    LogNodeRow.__table__,  # type: ignore[attr-defined]
    LogCheckpointRow.__table__,  # type: ignore[attr-defined]
    LogKeyRow.__table__,  # type: ignore[attr-defined]
    LogHeadRow.__table__,  # type: ignore[attr-defined]
    LogLearnerHeadRow.__table__,  # type: ignore[attr-defined]
]


def append_only_trigger_sql(dialect: str) -> list[str]:
    """The DDL that makes the log's tables refuse UPDATE, DELETE (and TRUNCATE) on ``dialect``.

    One definition serves both :func:`install_append_only_triggers` and the Alembic migration.
    """
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} "
            f"BEFORE {op} ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'creditbank: {table} is append-only'); END"
            for table in APPEND_ONLY_TABLES
            for op in ("UPDATE", "DELETE")
        ]
    statements = [
        "CREATE OR REPLACE FUNCTION creditbank_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        # No '%' placeholder: the driver would take it for a parameter marker.
        "RAISE EXCEPTION USING MESSAGE = 'creditbank: ' || TG_TABLE_NAME || ' is append-only'; "
        "END $$"
    ]
    for table in APPEND_ONLY_TABLES:
        statements.append(
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION creditbank_append_only()"
        )
        statements.append(
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION creditbank_append_only()"
        )
    return statements


def install_append_only_triggers(engine: Engine) -> None:
    """Make the database refuse UPDATE and DELETE (and TRUNCATE) on the log's tables."""
    with engine.begin() as conn:
        for statement in append_only_trigger_sql(engine.dialect.name):
            conn.exec_driver_sql(statement)


def create_log_schema(engine: Engine) -> None:
    """Create the log's tables, the head row and the append-only triggers (idempotent)."""
    SQLModel.metadata.create_all(engine, tables=_LOG_TABLES)
    with Session(engine) as session:
        if session.get(LogHeadRow, 1) is None:
            session.add(LogHeadRow(id=1, size=0))
            session.commit()
    install_append_only_triggers(engine)
