"""Rebuild the read models from the log, and compare read models.

The log is the only source of truth. :func:`replay` applies every entry, in order, with the same
projection functions the live append path uses; :func:`rebuild` does that into emptied tables in
one transaction (so a failed rebuild changes nothing); :func:`snapshot` renders the read models as
plain sorted rows so a test (or an operator) can assert two sets of read models are identical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, delete
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, select

from creditbank.accounts.kinds import Body, parse_body
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.staged_rows import StagedRows
from creditbank.accounts.tables import PROJECTION_TABLES
from creditbank.errors import CreditbankError, TamperError
from creditbank.ledger import SqlLogStore
from creditbank.ledger.entry import Leaf
from creditbank.ledger.store import LogStore

__all__ = ["project", "rebuild", "replay", "replayed_entries", "scratch_read_models", "snapshot"]


def replayed_entries(
    store: LogStore, size: int, *, audited: int = 0
) -> Iterator[tuple[int, Leaf, Body]]:
    """The first ``size`` entries of the log, each parsed into its typed body, in order.

    The one loop that a rebuild, the read-model audit and the conversion re-check share: an entry
    that does not parse is a :class:`~creditbank.errors.TamperError` naming its index. The first
    ``audited`` entries were checked byte for byte by a ledger audit of this same run, so they are
    decoded without re-deriving their canonical form (:meth:`Leaf.from_audited_bytes`).
    """
    for row in store.leaves(0, size):
        try:
            if row.index < audited:
                leaf = Leaf.from_audited_bytes(row.data)
            else:
                leaf = Leaf.from_bytes(row.data)
            body = parse_body(leaf.entry.type, leaf.entry.body)
        except CreditbankError as exc:
            raise TamperError(
                f"entry {row.index} cannot be replayed: {exc}", index=row.index
            ) from exc
        yield row.index, leaf, body


def project(
    session: Session,
    entries: Iterable[tuple[int, Leaf, Body]],
    *,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Apply ``entries`` in order to the read models in ``session``.

    Rows are staged and written one statement per table and thousand entries, as the append path
    writes them (:mod:`creditbank.accounts.staged_rows`): a replay of the whole log is mostly
    inserts, and one ORM object per row made it several times slower than the ledger audit. Any
    query (an audit's check between entries) writes the staged rows first."""
    staged = StagedRows(session)
    try:
        for index, leaf, body in entries:
            apply_entry(session, index, leaf, body)
            if index % 1000 == 999:
                staged.flush()
                session.flush()
                if progress is not None:
                    progress(index + 1)
    finally:
        staged.close()
    session.flush()


@contextmanager
def scratch_read_models() -> Iterator[Session]:
    """Empty read models in a private in-memory database, for the audits that replay into them."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    try:
        tables = [t.__table__ for t in PROJECTION_TABLES]  # type: ignore[attr-defined]
        SQLModel.metadata.create_all(engine, tables=tables)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def replay(
    store: LogStore, session: Session, *, progress: Callable[[int], None] | None = None
) -> int:
    """Apply every log entry to (empty) read models in ``session``; return how many."""
    size = store.size()
    project(session, replayed_entries(store, size), progress=progress)
    if progress is not None:
        progress(size)
    return size


def rebuild(store: SqlLogStore, *, progress: Callable[[int], None] | None = None) -> int:
    """Empty the read models and replay the log into them, in one transaction.

    The writers' lock is held throughout, so no append can interleave; a failure leaves the old
    read models in place.
    """
    with store.transaction() as tx:
        for table in reversed(PROJECTION_TABLES):
            tx.session.execute(delete(table))
        return replay(store, tx.session, progress=progress)


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row as a tuple of its column values, sorted: equal iff models are equal."""
    result: dict[str, list[tuple[Any, ...]]] = {}
    for table in PROJECTION_TABLES:
        columns = [c.name for c in table.__table__.columns]  # type: ignore[attr-defined]
        rows = [
            tuple(getattr(row, name) for name in columns) for row in session.exec(select(table))
        ]
        result[str(table.__tablename__)] = sorted(rows, key=repr)
    return result
