"""The log store on SQLite or PostgreSQL.

Append-only is enforced twice: this module has no UPDATE or DELETE path for log rows, and
:func:`install_append_only_triggers` makes the database itself reject UPDATE, DELETE (and, on
PostgreSQL, TRUNCATE) on the entries, tree-node, checkpoint and log-key tables. The one mutable row
is ``log_head``: it holds the tree size and is what writers lock (``BEGIN IMMEDIATE`` on SQLite,
``SELECT ... FOR UPDATE`` on PostgreSQL), so two writers can never both extend the same head.

Write transactions expose their SQLAlchemy :class:`~sqlmodel.Session` so that the accounts layer
can update read models in the same transaction as the append.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    LargeBinary,
    UniqueConstraint,
    func,
    insert,
    tuple_,
)
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Field, Session, SQLModel, col, select

from creditbank.errors import DuplicateNonceError, StorageError
from creditbank.ledger.database import WRITE_OPTIONS, is_sqlite
from creditbank.ledger.merkle import NodeId
from creditbank.ledger.store import LeafRow, StoredCheckpoint

__all__ = [
    "APPEND_ONLY_TABLES",
    "LogCheckpointRow",
    "LogEntryRow",
    "LogHeadRow",
    "LogKeyRow",
    "LogNodeRow",
    "SqlLogStore",
    "SqlTransaction",
    "create_log_schema",
    "install_append_only_triggers",
]

#: Rows of these tables never change once written.
APPEND_ONLY_TABLES = ("log_entries", "log_nodes", "log_checkpoints", "log_keys")

_IN_BATCH = 500  # ids per IN (...) query, well under every driver's parameter limit


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


_LOG_TABLES = [
    LogEntryRow.__table__,  # type: ignore[attr-defined]
    LogNodeRow.__table__,  # type: ignore[attr-defined]
    LogCheckpointRow.__table__,  # type: ignore[attr-defined]
    LogKeyRow.__table__,  # type: ignore[attr-defined]
    LogHeadRow.__table__,  # type: ignore[attr-defined]
]


def install_append_only_triggers(engine: Engine) -> None:
    """Make the database refuse UPDATE and DELETE (and TRUNCATE) on the log's tables."""
    with engine.begin() as conn:
        if is_sqlite(engine):
            for table in APPEND_ONLY_TABLES:
                for op in ("UPDATE", "DELETE"):
                    conn.exec_driver_sql(
                        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} "
                        f"BEFORE {op} ON {table} BEGIN "
                        f"SELECT RAISE(ABORT, 'creditbank: {table} is append-only'); END"
                    )
            return
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION creditbank_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'creditbank: % is append-only', TG_TABLE_NAME; END $$"
        )
        for table in APPEND_ONLY_TABLES:
            conn.exec_driver_sql(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION creditbank_append_only()"
            )
            conn.exec_driver_sql(
                f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION creditbank_append_only()"
            )


def create_log_schema(engine: Engine) -> None:
    """Create the log's tables, the head row and the append-only triggers (idempotent)."""
    SQLModel.metadata.create_all(engine, tables=_LOG_TABLES)
    with Session(engine) as session:
        if session.get(LogHeadRow, 1) is None:
            session.add(LogHeadRow(id=1, size=0))
            session.commit()
    install_append_only_triggers(engine)


class SqlTransaction:
    """A write transaction holding the writers' lock; ``session`` is shared with read models."""

    def __init__(self, session: Session, size: int) -> None:
        self.session = session
        self._size = size

    def size(self) -> int:
        return self._size

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return _fetch_nodes(self.session, ids)

    def used_nonces(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        wanted = list(dict.fromkeys(pairs))
        found: set[tuple[str, str]] = set()
        for i in range(0, len(wanted), _IN_BATCH):
            part = wanted[i : i + _IN_BATCH]
            stmt = select(LogEntryRow.actor, LogEntryRow.nonce).where(
                tuple_(LogEntryRow.actor, LogEntryRow.nonce).in_(part)
            )
            found.update((a, n) for a, n in self.session.exec(stmt))
        return found

    def write(
        self,
        leaves: Sequence[LeafRow],
        nodes: Sequence[tuple[NodeId, bytes]],
        checkpoint: StoredCheckpoint,
    ) -> None:
        session = self.session
        if leaves and leaves[0].index != self._size:
            raise StorageError(f"leaf index {leaves[0].index} does not follow head {self._size}")
        try:
            if leaves:
                session.execute(
                    insert(LogEntryRow),
                    [
                        {
                            "idx": r.index,
                            "leaf": r.data,
                            "actor": r.actor,
                            "nonce": r.nonce,
                            "entry_type": r.entry_type,
                        }
                        for r in leaves
                    ],
                )
                session.execute(
                    insert(LogNodeRow),
                    [{"level": n.level, "idx": n.index, "hash": h} for n, h in nodes],
                )
                new_size = leaves[-1].index + 1
                session.execute(
                    LogHeadRow.__table__.update()  # type: ignore[attr-defined]
                    .where(LogHeadRow.__table__.c.id == 1)  # type: ignore[attr-defined]
                    .values(size=new_size)
                )
                self._size = new_size
            session.add(
                LogCheckpointRow(
                    tree_size=checkpoint.tree_size,
                    root_hash=checkpoint.root_hash,
                    note=checkpoint.note,
                    created_at=checkpoint.created_at,
                )
            )
            session.flush()
        except IntegrityError as exc:
            if "nonce" in str(exc.orig).lower():
                raise DuplicateNonceError("an (actor, nonce) pair is already in the log") from exc
            raise StorageError(f"the log refused the write: {exc.orig}") from exc


def _fetch_nodes(session: Session, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    wanted = list(dict.fromkeys(ids))
    found: dict[NodeId, bytes] = {}
    for i in range(0, len(wanted), _IN_BATCH):
        part = [(n.level, n.index) for n in wanted[i : i + _IN_BATCH]]
        stmt = select(LogNodeRow.level, LogNodeRow.idx, LogNodeRow.hash).where(
            tuple_(LogNodeRow.level, LogNodeRow.idx).in_(part)
        )
        found.update((NodeId(level, idx), h) for level, idx, h in session.exec(stmt))
    return found


class SqlLogStore:
    """The log on SQLite or PostgreSQL; see the module docstring for the locking rules."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _session(self) -> Session:
        return Session(self.engine)

    def size(self) -> int:
        with self._session() as session:
            try:
                head = session.get(LogHeadRow, 1)
            except (OperationalError, ProgrammingError) as exc:
                raise StorageError(
                    "this database has no creditbank log; run `creditbank init`"
                ) from exc
            if head is None:
                raise StorageError(
                    "this database has no creditbank log head; run `creditbank init`"
                )
            return head.size

    def leaves(self, start: int, end: int) -> Iterator[LeafRow]:
        """Stream in pages so a million-entry audit never holds the log in memory."""
        page = 5000
        position = max(start, 0)
        while position < end:
            with self._session() as session:
                stmt = (
                    select(LogEntryRow)
                    .where(LogEntryRow.idx >= position, LogEntryRow.idx < min(end, position + page))
                    .order_by(col(LogEntryRow.idx))
                )
                rows = list(session.exec(stmt))
            for row in rows:
                yield LeafRow(row.idx, row.leaf, row.actor, row.nonce, row.entry_type)
            position += page

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        with self._session() as session:
            return _fetch_nodes(session, ids)

    def node_count(self) -> int:
        with self._session() as session:
            return int(session.exec(select(func.count()).select_from(LogNodeRow)).one())

    def _to_stored(self, row: LogCheckpointRow) -> StoredCheckpoint:
        return StoredCheckpoint(row.tree_size, row.root_hash, row.note, row.created_at)

    def checkpoints(self) -> Iterator[StoredCheckpoint]:
        with self._session() as session:
            stmt = select(LogCheckpointRow).order_by(
                col(LogCheckpointRow.tree_size), col(LogCheckpointRow.id)
            )
            rows = list(session.exec(stmt))
        yield from (self._to_stored(r) for r in rows)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self._session() as session:
            stmt = select(LogCheckpointRow).order_by(col(LogCheckpointRow.id).desc())
            row = session.exec(stmt.limit(1)).first()
            return self._to_stored(row) if row else None

    def checkpoint_at(self, tree_size: int) -> StoredCheckpoint | None:
        with self._session() as session:
            stmt = (
                select(LogCheckpointRow)
                .where(LogCheckpointRow.tree_size == tree_size)
                .order_by(LogCheckpointRow.id.desc())  # type: ignore[union-attr]
            )
            row = session.exec(stmt.limit(1)).first()
            return self._to_stored(row) if row else None

    def add_log_key(self, vkey: str, created_at: datetime) -> None:
        with self._session() as session:
            if session.get(LogKeyRow, vkey) is None:
                session.add(LogKeyRow(vkey=vkey, created_at=created_at))
                session.commit()

    def log_keys(self) -> list[str]:
        with self._session() as session:
            stmt = select(LogKeyRow).order_by(col(LogKeyRow.created_at))
            return [row.vkey for row in session.exec(stmt)]

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self.engine.connect() as conn:
            conn.execution_options(**WRITE_OPTIONS)
            with conn.begin():
                session = Session(bind=conn, join_transaction_mode="rollback_only")
                try:
                    head_stmt = select(LogHeadRow.size).where(LogHeadRow.id == 1)
                    if not is_sqlite(self.engine):
                        head_stmt = head_stmt.with_for_update()
                    size = session.exec(head_stmt).first()
                    if size is None:
                        raise StorageError(
                            "this database has no creditbank log; run `creditbank init`"
                        )
                    tx = SqlTransaction(session, size)
                    yield tx
                    session.flush()
                finally:
                    session.close()
