"""The log store on SQLite or PostgreSQL.

Append-only is enforced twice: this module has no UPDATE or DELETE path for log rows, and
:func:`~creditbank.ledger.sql_schema.install_append_only_triggers` (with the tables, in
:mod:`creditbank.ledger.sql_schema`) makes the database itself reject UPDATE, DELETE (and, on
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
    Connection,
    Engine,
    Select,
    func,
)
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlmodel import Session, col, select

from creditbank.errors import DuplicateNonceError, StorageError
from creditbank.ledger.database import WRITE_OPTIONS, is_sqlite
from creditbank.ledger.learner_index import IndexValue
from creditbank.ledger.merkle import NodeId
from creditbank.ledger.sql_schema import (
    APPEND_ONLY_TABLES,
    CHECKPOINT_COLUMNS,
    CHECKPOINTS,
    ENTRIES,
    HEAD,
    LEARNER_HEADS,
    LogCheckpointRow,
    LogEntryRow,
    LogHeadRow,
    LogKeyRow,
    LogLearnerHeadRow,
    LogNodeRow,
    append_only_trigger_sql,
    create_log_schema,
    install_append_only_triggers,
)
from creditbank.ledger.store import LeafRow, LearnerHead, StoredCheckpoint

__all__ = [
    "APPEND_ONLY_TABLES",
    "append_only_trigger_sql",
    "LogCheckpointRow",
    "LogEntryRow",
    "LogHeadRow",
    "LogKeyRow",
    "LogLearnerHeadRow",
    "LogNodeRow",
    "SqlLogStore",
    "SqlTransaction",
    "create_log_schema",
    "install_append_only_triggers",
]

_IN_BATCH = 500  # ids per IN (...) query, well under every driver's parameter limit
_MIN_RUN = 4  # consecutive node indexes worth a range query rather than an IN list


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

    def learner_heads(self, since: int) -> list[LearnerHead]:
        return _read_heads(self.session.connection(), since)

    def write(
        self,
        leaves: Sequence[LeafRow],
        nodes: Sequence[tuple[NodeId, bytes]],
        checkpoint: StoredCheckpoint,
        heads: Sequence[LearnerHead] = (),
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
                conn.execute(HEAD.update().where(HEAD.c.id == 1).values(size=new_size))
                self._size = new_size
            _write_heads(session.connection(), heads)
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


def _read_heads(conn: Connection, since: int) -> list[LearnerHead]:
    columns = (LEARNER_HEADS.c.learner, LEARNER_HEADS.c.count, LEARNER_HEADS.c.head_idx)
    stmt = sa_select(*columns, LEARNER_HEADS.c.head_hash)
    if since > 0:
        stmt = stmt.where(LEARNER_HEADS.c.head_idx >= since)
    return [
        LearnerHead(learner, IndexValue(count, head, bytes(hashed)))
        for learner, count, head, hashed in conn.execute(stmt).all()
    ]


def _write_heads(conn: Connection, heads: Sequence[LearnerHead]) -> None:
    """Insert or replace each moved head (``ON CONFLICT``: SQLite >= 3.24 and PostgreSQL)."""
    if not heads:
        return
    mark = _mark(conn)
    conn.exec_driver_sql(
        "INSERT INTO log_learner_heads (learner, count, head_idx, head_hash) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}) ON CONFLICT (learner) DO UPDATE SET "
        "count = excluded.count, head_idx = excluded.head_idx, head_hash = excluded.head_hash",
        [(h.learner, h.value.count, h.value.head_index, h.value.head_leaf_hash) for h in heads],
    )


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
        columns = (ENTRIES.c.idx, ENTRIES.c.leaf, ENTRIES.c.actor, ENTRIES.c.nonce)
        while position < end:
            stmt = (
                sa_select(*columns, ENTRIES.c.entry_type)
                .where(ENTRIES.c.idx >= position, ENTRIES.c.idx < min(end, position + page))
                .order_by(ENTRIES.c.idx)
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
        stmt = CHECKPOINT_COLUMNS.order_by(CHECKPOINTS.c.tree_size, CHECKPOINTS.c.id)
        yield from self._checkpoint_rows(stmt)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        stmt = CHECKPOINT_COLUMNS.order_by(CHECKPOINTS.c.id.desc()).limit(1)
        found = self._checkpoint_rows(stmt)
        return found[0] if found else None

    def checkpoint_at(self, tree_size: int) -> StoredCheckpoint | None:
        stmt = (
            CHECKPOINT_COLUMNS.where(CHECKPOINTS.c.tree_size == tree_size)
            .order_by(CHECKPOINTS.c.id.desc())
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

    def learner_heads(self, since: int) -> list[LearnerHead]:
        with self.engine.connect() as conn:
            return _read_heads(conn, since)

    def find(self, actor: str, nonce: str) -> LeafRow | None:
        columns = (ENTRIES.c.idx, ENTRIES.c.leaf, ENTRIES.c.actor, ENTRIES.c.nonce)
        stmt = sa_select(*columns, ENTRIES.c.entry_type).where(
            ENTRIES.c.actor == actor, ENTRIES.c.nonce == nonce
        )
        with self.engine.connect() as conn:
            row = conn.execute(stmt).first()
        if row is None:
            return None
        return LeafRow(int(row[0]), bytes(row[1]), row[2], row[3], row[4])

    def first_checkpoint_covering(self, index: int) -> StoredCheckpoint | None:
        stmt = (
            CHECKPOINT_COLUMNS.where(CHECKPOINTS.c.tree_size > index)
            .order_by(CHECKPOINTS.c.tree_size, CHECKPOINTS.c.id)
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
