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
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    LargeBinary,
    Select,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Field, Session, SQLModel, col, select

from creditbank.errors import DuplicateNonceError, StorageError
from creditbank.ledger.database import WRITE_OPTIONS, is_sqlite
from creditbank.ledger.merkle import NodeId
from creditbank.ledger.store import LeafRow, StoredCheckpoint

__all__ = [
    "APPEND_ONLY_TABLES",
    "append_only_trigger_sql",
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


_ENTRIES: Table = LogEntryRow.__table__  # type: ignore[attr-defined]
_NODES: Table = LogNodeRow.__table__  # type: ignore[attr-defined]
_HEAD: Table = LogHeadRow.__table__  # type: ignore[attr-defined]
_CHECKPOINTS: Table = LogCheckpointRow.__table__  # type: ignore[attr-defined]
_CHECKPOINT_COLUMNS = sa_select(
    _CHECKPOINTS.c.tree_size,
    _CHECKPOINTS.c.root_hash,
    _CHECKPOINTS.c.note,
    _CHECKPOINTS.c.created_at,
)
_MIN_RUN = 4  # consecutive node indexes worth a range query rather than an IN list

_LOG_TABLES = [
    LogEntryRow.__table__,  # type: ignore[attr-defined]
    LogNodeRow.__table__,  # type: ignore[attr-defined]
    LogCheckpointRow.__table__,  # type: ignore[attr-defined]
    LogKeyRow.__table__,  # type: ignore[attr-defined]
    LogHeadRow.__table__,  # type: ignore[attr-defined]
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


class SqlTransaction:
    """A write transaction holding the writers' lock; ``session`` is shared with read models."""

    def __init__(self, session: Session, size: int) -> None:
        self.session = session
        self._size = size

    def size(self) -> int:
        return self._size

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return _fetch_nodes(self.session.connection(), ids)

    def used_nonces(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        # ``actor = ? AND nonce IN (...)`` per actor, OR-ed into one statement: an index lookup
        # per nonce in one round trip. (A row-value ``(actor, nonce) IN (...)`` makes SQLite scan
        # the whole index on every batch.) Plain driver SQL: this runs on the append hot path.
        by_actor: dict[str, list[str]] = {}
        for actor, nonce in dict.fromkeys(pairs):
            by_actor.setdefault(actor, []).append(nonce)
        conn = self.session.connection()
        mark = _mark(conn)
        found: set[tuple[str, str]] = set()
        terms: list[str] = []
        params: list[str] = []
        items = [
            (actor, nonces[i : i + _IN_BATCH])
            for actor, nonces in by_actor.items()
            for i in range(0, len(nonces), _IN_BATCH)
        ]
        for position, (actor, part) in enumerate(items):
            terms.append(f"(actor = {mark} AND nonce IN ({', '.join([mark] * len(part))}))")
            params.extend((actor, *part))
            if len(params) >= _IN_BATCH or position == len(items) - 1:
                sql = "SELECT actor, nonce FROM log_entries WHERE " + " OR ".join(terms)
                found.update((a, n) for a, n in conn.exec_driver_sql(sql, tuple(params)).all())
                terms, params = [], []
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
                # Plain driver executemany: SQLAlchemy's per-row parameter processing (ORM or
                # Core) costs more than SQLite's insert itself on the append hot path.
                conn = session.connection()
                mark = _mark(conn)
                conn.exec_driver_sql(
                    "INSERT INTO log_entries (idx, leaf, actor, nonce, entry_type) "
                    f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
                    [(r.index, r.data, r.actor, r.nonce, r.entry_type) for r in leaves],
                )
                conn.exec_driver_sql(
                    f"INSERT INTO log_nodes (level, idx, hash) VALUES ({mark}, {mark}, {mark})",
                    [(n.level, n.index, h) for n, h in nodes],
                )
                new_size = leaves[-1].index + 1
                conn.execute(_HEAD.update().where(_HEAD.c.id == 1).values(size=new_size))
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


def _fetch_nodes(conn: Connection, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """Fetch nodes with as few primary-key lookups as the request allows.

    Per level, runs of consecutive indexes become one range and the rest one ``IN`` list; all
    of them are OR-ed into a single statement (up to a parameter budget), which SQLite answers
    with one index search per term (``MULTI-INDEX OR``) and PostgreSQL with a bitmap OR. An audit
    asks for the long runs a chunk of leaves completes; a proof for a few scattered nodes: either
    way one round trip. (A row-value ``(level, idx) IN (...)`` makes SQLite scan the table.)
    """
    by_level: dict[int, list[int]] = {}
    for node in ids:
        by_level.setdefault(node.level, []).append(node.index)
    mark = _mark(conn)
    terms: list[tuple[str, tuple[int, ...]]] = []
    for level, indexes in by_level.items():
        singles: list[int] = []
        for first, last in _runs(sorted(set(indexes))):
            if last - first + 1 >= _MIN_RUN:
                terms.append(
                    (f"(level = {mark} AND idx BETWEEN {mark} AND {mark})", (level, first, last))
                )
            else:
                singles.extend(range(first, last + 1))
        for i in range(0, len(singles), _IN_BATCH):
            part = singles[i : i + _IN_BATCH]
            marks = ", ".join([mark] * len(part))
            terms.append((f"(level = {mark} AND idx IN ({marks}))", (level, *part)))
    found: dict[NodeId, bytes] = {}
    statement: list[str] = []
    params: list[int] = []
    for position, (term, values) in enumerate(terms):
        statement.append(term)
        params.extend(values)
        if len(params) >= _IN_BATCH or position == len(terms) - 1:
            sql = "SELECT level, idx, hash FROM log_nodes WHERE " + " OR ".join(statement)
            rows = conn.exec_driver_sql(sql, tuple(params)).all()  # one fetchall, not per row
            found.update((NodeId(level, idx), bytes(hashed)) for level, idx, hashed in rows)
            statement, params = [], []
    return found


def _mark(conn: Connection) -> str:
    """The driver's positional parameter marker (SQLite ``?``, psycopg ``%s``)."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def _runs(indexes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Maximal runs of consecutive integers in sorted ``indexes``, as ``(first, last)``."""
    if not indexes:
        return
    first = last = indexes[0]
    for index in indexes[1:]:
        if index != last + 1:
            yield first, last
            first = index
        last = index
    yield first, last


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
        columns = (_ENTRIES.c.idx, _ENTRIES.c.leaf, _ENTRIES.c.actor, _ENTRIES.c.nonce)
        while position < end:
            stmt = (
                sa_select(*columns, _ENTRIES.c.entry_type)
                .where(_ENTRIES.c.idx >= position, _ENTRIES.c.idx < min(end, position + page))
                .order_by(_ENTRIES.c.idx)
            )
            with self.engine.connect() as conn:
                rows = conn.execute(stmt).all()
            for idx, leaf, actor, nonce, entry_type in rows:
                yield LeafRow(idx, bytes(leaf), actor, nonce, entry_type)
            position += page

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        with self.engine.connect() as conn:
            return _fetch_nodes(conn, ids)

    def node_count(self) -> int:
        with self._session() as session:
            return int(session.exec(select(func.count()).select_from(LogNodeRow)).one())

    def _checkpoint_rows(self, stmt: Select[Any]) -> list[StoredCheckpoint]:
        with self.engine.connect() as conn:
            return [
                StoredCheckpoint(size, bytes(root), note, created)
                for size, root, note, created in conn.execute(stmt)
            ]

    def checkpoints(self) -> Iterator[StoredCheckpoint]:
        stmt = _CHECKPOINT_COLUMNS.order_by(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.id)
        yield from self._checkpoint_rows(stmt)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        stmt = _CHECKPOINT_COLUMNS.order_by(_CHECKPOINTS.c.id.desc()).limit(1)
        found = self._checkpoint_rows(stmt)
        return found[0] if found else None

    def checkpoint_at(self, tree_size: int) -> StoredCheckpoint | None:
        stmt = (
            _CHECKPOINT_COLUMNS.where(_CHECKPOINTS.c.tree_size == tree_size)
            .order_by(_CHECKPOINTS.c.id.desc())
            .limit(1)
        )
        found = self._checkpoint_rows(stmt)
        return found[0] if found else None

    def add_log_key(self, vkey: str, created_at: datetime) -> None:
        with self._session() as session:
            if session.get(LogKeyRow, vkey) is None:
                session.add(LogKeyRow(vkey=vkey, created_at=created_at))
                session.commit()

    def log_keys(self) -> list[str]:
        with self._session() as session:
            stmt = select(LogKeyRow).order_by(col(LogKeyRow.created_at))
            return [row.vkey for row in session.exec(stmt)]

    def find(self, actor: str, nonce: str) -> LeafRow | None:
        columns = (_ENTRIES.c.idx, _ENTRIES.c.leaf, _ENTRIES.c.actor, _ENTRIES.c.nonce)
        stmt = sa_select(*columns, _ENTRIES.c.entry_type).where(
            _ENTRIES.c.actor == actor, _ENTRIES.c.nonce == nonce
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return LeafRow(int(row[0]), bytes(row[1]), row[2], row[3], row[4])

    def first_checkpoint_covering(self, index: int) -> StoredCheckpoint | None:
        stmt = (
            _CHECKPOINT_COLUMNS.where(_CHECKPOINTS.c.tree_size > index)
            .order_by(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.id)
            .limit(1)
        )
        found = self._checkpoint_rows(stmt)
        return found[0] if found else None

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
