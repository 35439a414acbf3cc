"""The state admission rules read: a :class:`~creditbank.accounts.kinds.base.Snapshot` over the
append transaction's session.

Rows come from the session's identity map when an earlier entry of the same transaction already
loaded them (actors and their keys are read once per group), and reflect entries staged earlier in
the same group, so a batch may register a learner and then credit them: a row staged by
:mod:`~creditbank.accounts.staged_rows` or added as an ORM object is never answered "absent" from
the preload, and the query that then looks it up writes it first (nothing is flushed per entry).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, SQLModel, col, select

from creditbank.accounts.learner_holdings import learner_holdings, recognised_in
from creditbank.accounts.staged_rows import StagedRows
from creditbank.mapping import Catalog, Holdings, PostedRecognition

__all__ = ["SessionSnapshot"]

_Row = TypeVar("_Row", bound=SQLModel)

_EXISTS_CHUNK = 500  # ids per existence query, well under every driver's parameter limit
_LOAD_CHUNK = 100  # ids per ORM load (see SessionSnapshot.preload)


class SessionSnapshot:
    """Current state as seen inside the append transaction (read-only use)."""

    def __init__(
        self,
        session: Session,
        catalog: Callable[[Session, date | None], Catalog],
        staged: StagedRows | None = None,
    ) -> None:
        self._session = session
        self._staged = staged
        self._catalog = catalog
        #: Rows a preload found missing: answered without a query until a projection adds them.
        self._absent: set[tuple[type[SQLModel], Any]] = set()
        #: Rows a preload found, by (table, key): answered without the session (the same objects
        #: the identity map holds, so a projection's change to one is seen here too).
        self._found: dict[tuple[type[SQLModel], Any], SQLModel] = {}
        # Every row a projection adds as an ORM object exists from the moment it is added (a
        # lookup of it autoflushes first).
        event.listen(session, "transient_to_pending", self._added)

    def _added(self, _session: Session, instance: object) -> None:
        self.created([instance])

    def preload(self, wanted: Iterable[tuple[type[SQLModel], Any]]) -> None:
        """Load many rows by primary key and remember which are missing: per table, one plain
        existence query, then the ORM loads only the rows that exist (most looked-up ids, of
        certificates and credits about to be issued, do not; and SQLAlchemy renders a long
        ``IN`` list's parameters in time quadratic in its length)."""
        by_table: dict[type[SQLModel], set[Any]] = {}
        for table, key in wanted:
            by_table.setdefault(table, set()).add(key)
        if self._staged is not None:
            self._staged.flush()  # the existence query goes around the session's hooks
        conn = self._session.connection()
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        for table, keys in by_table.items():
            primary = sa_inspect(table).primary_key
            if len(primary) != 1:
                continue  # composite keys are looked up one by one
            name, pk = str(table.__tablename__), primary[0].name
            present: set[Any] = set()
            ordered = sorted(keys, key=repr)
            for start in range(0, len(ordered), _EXISTS_CHUNK):
                chunk = ordered[start : start + _EXISTS_CHUNK]
                sql = f"SELECT {pk} FROM {name} WHERE {pk} IN ({', '.join([mark] * len(chunk))})"
                present.update(r[0] for r in conn.exec_driver_sql(sql, tuple(chunk)).all())
            self._load(table, sorted(present, key=repr))
            self._absent.update((table, key) for key in keys - present)

    def _load(self, table: type[SQLModel], keys: Sequence[Any]) -> None:
        name = sa_inspect(table).primary_key[0].key
        column = col(getattr(table, name))
        for start in range(0, len(keys), _LOAD_CHUNK):
            chunk = keys[start : start + _LOAD_CHUNK]
            for row in self._session.exec(select(table).where(column.in_(chunk))):
                # Kept here: the session's identity map holds clean rows weakly.
                self._found[(table, getattr(row, name))] = row

    @property
    def catalog(self) -> Catalog:
        return self._catalog(self._session, None)

    def catalog_on(self, day: date) -> Catalog:
        return self._catalog(self._session, day)

    def created(self, rows: Iterable[object]) -> None:
        """Rows just added (pending in the session) exist from now on."""
        if not self._absent:
            return
        for row in rows:
            primary = sa_inspect(type(row)).primary_key
            if len(primary) == 1:
                self._absent.discard((type(row), getattr(row, primary[0].key)))

    def get(self, table: type[_Row], key: Any) -> _Row | None:
        row = self._found.get((table, key))
        if row is not None:
            return row  # type: ignore[return-value]
        if (table, key) in self._absent and (
            self._staged is None or (table, key) not in self._staged.written
        ):
            return None
        return self._session.get(table, key)

    def where(self, table: type[_Row], **equals: Any) -> Sequence[_Row]:
        return list(self._session.exec(select(table).filter_by(**equals)))

    def holdings(self, learner_id: str, *, exclude_programme: str | None = None) -> Holdings:
        programmes = {p.code: p for p in self.catalog.programmes}
        return learner_holdings(
            self._session, learner_id, programmes, exclude_programme=exclude_programme
        )

    def recognised_in(self, learner_id: str, programme_code: str) -> list[PostedRecognition]:
        return recognised_in(self._session, learner_id, programme_code)
