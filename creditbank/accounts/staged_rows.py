"""Read-model rows of one append transaction, written with one statement per table.

Why: most entries only *insert* read-model rows (a certificate, a credit, a learner). As ORM
objects each row cost a model constructor with validation, identity-map bookkeeping and a place
in a unit-of-work flush; appended by the hundred per group commit, that was most of an append's
CPU. :class:`StagedRows` keeps such rows as plain column dictionaries and writes them as one
``executemany`` per table, together with the projection state (how many entries the read models
have applied), which it counts in memory instead of re-reading its row per entry.

Rows are written before the session runs any query (a ``do_orm_execute`` hook), so every read in
the transaction sees them, and at the latest when the unit of work ends. A projection written in
the ORM style (``session.add``) keeps working beside it: the two never touch the same row (there
are no foreign keys between read-model tables, so their order does not matter).

Outside an append transaction (rebuild, tests) no :class:`StagedRows` is attached and
:func:`insert_row` adds an ORM object, exactly as before.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Dialect, Table, event, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select as sa_select
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, SQLModel

from creditbank.accounts.tables import ProjectionStateRow
from creditbank.errors import StorageError

__all__ = ["StagedRows", "insert_row", "staged_rows"]

_KEY = "creditbank.staged_rows"
_STATE: Table = ProjectionStateRow.__table__  # type: ignore[attr-defined]


def staged_rows(session: Session) -> StagedRows | None:
    """The rows staged in ``session``'s append transaction (``None`` outside one)."""
    found = session.info.get(_KEY)
    return found if isinstance(found, StagedRows) else None


def insert_row(session: Session, table: type[SQLModel], **values: Any) -> None:
    """Add one read-model row: staged when an append transaction is open, else an ORM object.

    ``values`` name every column the row sets (the others take their defaults, ``NULL``)."""
    stage = staged_rows(session)
    if stage is None:
        session.add(table(**values))
    else:
        stage.insert(table, values)


@functools.lru_cache(maxsize=256)
def _insert_sql(
    table: type[SQLModel], columns: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[str, ...] | None] | None:
    """The driver's INSERT text for ``columns`` of ``table`` and the parameter order when the
    driver's parameters are positional (SQLite's ``?``; PostgreSQL's are named); ``None`` when
    a column needs SQLAlchemy's conversion of its values.

    Why the driver's own ``executemany``: SQLAlchemy processed each row's parameters in Python
    (about 7 µs a row), most of what a replay of the whole log spent writing. Going around it is
    only the same when no column has a bind processor on the dialect (plain strings, integers,
    booleans): a table with one (bytes on SQLite, say) keeps SQLAlchemy's path.
    """
    core: Table = table.__table__  # type: ignore[attr-defined]
    if any(c.type._cached_bind_processor(dialect) is not None for c in core.columns):
        return None
    compiled = insert(core).compile(dialect=dialect, column_keys=list(columns))
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
    return str(compiled), order


def _primary_key(table: type[SQLModel]) -> tuple[str, ...]:
    return tuple(column.key for column in sa_inspect(table).primary_key)


class StagedRows:
    """Pending inserts per table and the applied count, for one session's transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session
        #: (table, its column names) -> rows; one statement per key (executemany wants one shape).
        self._pending: dict[tuple[type[SQLModel], tuple[str, ...]], list[dict[str, Any]]] = {}
        #: Every (table, primary key) inserted in this transaction, pending or written: a
        #: snapshot must not answer "absent" for them from what it preloaded.
        self.written: set[tuple[type[SQLModel], Any]] = set()
        self._keys: dict[type[SQLModel], tuple[str, ...]] = {}
        stored = session.connection().execute(sa_select(_STATE.c.applied_size)).scalar()
        self._stored: int | None = None if stored is None else int(stored)
        self.applied = self._stored or 0
        session.info[_KEY] = self
        event.listen(session, "do_orm_execute", self._before_query)

    def close(self) -> None:
        """Write what is pending and detach from the session."""
        self.flush()
        event.remove(self._session, "do_orm_execute", self._before_query)
        self._session.info.pop(_KEY, None)

    def _before_query(self, _state: ORMExecuteState) -> None:
        if self._pending:
            self.flush()

    def insert(self, table: type[SQLModel], values: dict[str, Any]) -> None:
        self._pending.setdefault((table, tuple(values)), []).append(values)
        key = self._keys.get(table)
        if key is None:
            key = self._keys[table] = _primary_key(table)
        self.written.add(
            (table, values[key[0]] if len(key) == 1 else tuple(values[k] for k in key))
        )

    def advance(self, index: int) -> None:
        """The entry at ``index`` was projected: the read models now cover ``index + 1``."""
        if self.applied != index:
            raise StorageError(
                f"read models have applied {self.applied} entries but entry {index} arrived; "
                "run `creditbank rebuild`"
            )
        self.applied = index + 1

    def flush(self) -> None:
        """Write the pending rows (one statement per table) and the applied count."""
        pending, self._pending = self._pending, {}
        conn = self._session.connection()
        for (table, columns), rows in pending.items():
            plain = _insert_sql(table, columns, conn.dialect)
            if plain is None:
                conn.execute(insert(table.__table__), rows)  # type: ignore[attr-defined]
                continue
            sql, order = plain
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.executemany(
                    sql, [tuple(row[c] for c in order) for row in rows] if order else rows
                )
            finally:
                cursor.close()
        if self.applied != self._stored:
            if self._stored is None:
                conn.execute(insert(_STATE), [{"id": 1, "applied_size": self.applied}])
            else:
                conn.execute(
                    update(_STATE).where(_STATE.c.id == 1).values(applied_size=self.applied)
                )
            self._stored = self.applied

    def mark(self) -> int:
        """Write what is pending; what :meth:`reset` returns to after a savepoint rollback."""
        self.flush()
        return self.applied

    def reset(self, mark: int) -> None:
        """The savepoint taken at ``mark`` was rolled back: forget everything staged since."""
        self._pending = {}
        self.applied = self._stored = mark
