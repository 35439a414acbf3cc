"""Check the stored read models against the log, table by table, row by row, column by column.

Balances, progress and transcripts are read from the projection tables, not from the log, so a
row changed behind the code's back (a credit of 4 set to 40) would be served as truth. This audit
replays the log into *fresh* read models (an in-memory SQLite database, with the same projection
functions the write path uses) and compares them with the stored tables. The first differences are
reported with the table, the row's key, the column, the stored and the derived value.

The stored side is read in one read transaction (a snapshot), and the log is replayed exactly up to
the size those read models say they have applied, so an audit of a live database compares like
with like; entries appended meanwhile are left for the next audit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy import select as sa_select
from sqlmodel import Session

from creditbank.accounts.conversion_audit import ConversionCheck
from creditbank.accounts.replay import project, replayed_entries, scratch_read_models
from creditbank.accounts.tables import PROJECTION_TABLES, ProjectionStateRow
from creditbank.errors import TamperError
from creditbank.ledger.store import LogStore

__all__ = ["Difference", "ReadModelReport", "audit_read_models", "compare_read_models"]

#: How many differences a failure lists (the first one is what matters; the rest give scale).
_SHOWN = 20

#: table name -> (its column names, {primary key: the row's values in column order})
Rows = dict[str, tuple[tuple[str, ...], dict[tuple[Any, ...], tuple[Any, ...]]]]


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    column: str | None  # None: the whole row is missing on one side
    stored: Any
    derived: Any

    def __str__(self) -> str:
        key = ", ".join(str(part) for part in self.key)
        if self.column is None:
            where = "missing from the stored table" if self.stored is None else "not in the log"
            return f"table {self.table}, key ({key}): row {where}"
        return (
            f"table {self.table}, key ({key}), column {self.column}: "
            f"stored {self.stored!r}, derived from the log {self.derived!r}"
        )


@dataclass(frozen=True)
class ReadModelReport:
    entries: int
    tables: int
    rows: int
    #: ``conversion.posted`` entries re-checked in the same replay (None: not asked).
    conversions: int | None = None


def _rows(session: Session) -> Rows:
    """Every projection row as a tuple of column values, by primary key, read as plain Core rows:
    building an ORM object (or a dict) per row cost more than the replay itself on a big log."""
    out: Rows = {}
    conn = session.connection()
    for table in PROJECTION_TABLES:
        core = table.__table__  # type: ignore[attr-defined]
        columns = tuple(c.name for c in core.columns)
        keys = [columns.index(c.name) for c in core.primary_key.columns]
        rows: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for row in conn.execute(sa_select(core)):
            rows[tuple(row[k] for k in keys)] = tuple(row)
        out[str(table.__tablename__)] = (columns, rows)
    return out


def compare_read_models(stored: Rows, derived: Rows) -> list[Difference]:
    """Every difference, tables in projection order, keys sorted within a table.

    Rows are compared unsorted, as tuples (sorting every key of a big log by ``repr`` cost
    seconds); only the differences found are named column by column and put in order."""
    found: list[Difference] = []
    for table, (columns, derived_rows) in derived.items():
        stored_rows = stored[table][1] if table in stored else {}
        differences: list[Difference] = []
        for key in stored_rows.keys() | derived_rows.keys():
            mine, theirs = stored_rows.get(key), derived_rows.get(key)
            if mine == theirs:
                continue
            if mine is None or theirs is None:
                differences.append(
                    Difference(table, key, None, _named(columns, mine), _named(columns, theirs))
                )
                continue
            for column, value, was in zip(columns, theirs, mine, strict=True):
                if was != value:
                    differences.append(Difference(table, key, column, was, value))
        differences.sort(key=lambda d: repr(d.key))  # stable: columns keep their order
        found += differences
    return found


def _named(columns: tuple[str, ...], row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    return None if row is None else dict(zip(columns, row, strict=True))


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Session]:
    """A session reading one consistent snapshot of the stored tables.

    PostgreSQL: a REPEATABLE READ transaction. SQLite: engines from ``ledger.database`` begin every
    transaction explicitly, and in WAL mode its first read fixes the snapshot.
    """
    with engine.connect() as raw:
        conn: Connection = raw
        if engine.dialect.name == "postgresql":
            conn = raw.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            with Session(bind=conn) as session:
                yield session


def _derive(
    store: LogStore,
    size: int,
    audited: int,
    check: tzinfo | None,
    progress: Callable[[int], None] | None,
) -> tuple[Rows, int | None]:
    """The read models a replay of the first ``size`` entries gives; with ``check``, every
    conversion of the whole log is re-checked on the way, including any the stored read models
    have not applied yet (the replay goes on past ``size`` after the rows are taken)."""
    with scratch_read_models() as session:
        if check is None:
            project(session, replayed_entries(store, size, audited=audited), progress=progress)
            return _rows(session), None
        conversions = ConversionCheck(session, check)
        stream = conversions.entries(replayed_entries(store, store.size(), audited=audited))
        project(session, islice(stream, size), progress=progress)
        rows = _rows(session)
        project(session, stream)
        return rows, conversions.checked


def audit_read_models(
    engine: Engine,
    store: LogStore,
    *,
    progress: Callable[[int], None] | None = None,
    audited: int = 0,
    conversions: tzinfo | None = None,
) -> ReadModelReport:
    """Raise :class:`TamperError` listing the differences between stored and derived models.

    ``audited``: how many leading entries a ledger audit of this run has checked (their replay
    skips re-deriving canonical bytes). ``conversions``: when given (the configured time zone),
    every ``conversion.posted`` is re-checked during the same replay
    (:class:`~creditbank.accounts.conversion_audit.ConversionCheck`), instead of a second one.
    """
    with _snapshot(engine) as session:
        state = session.get(ProjectionStateRow, 1)
        size = state.applied_size if state is not None else 0
        stored = _rows(session)
    if size > store.size():
        raise TamperError(
            f"the read models claim {size} applied entries but the log has {store.size()}"
        )
    derived, checked = _derive(store, size, audited, conversions, progress)
    differences = compare_read_models(stored, derived)
    if differences:
        shown = "\n  ".join(str(d) for d in differences[:_SHOWN])
        more = len(differences) - _SHOWN
        raise TamperError(
            f"the read models differ from the log ({len(differences)} difference(s)):\n  {shown}"
            + (f"\n  ... and {more} more" if more > 0 else "")
        )
    if progress is not None:
        progress(size)
    return ReadModelReport(
        entries=size,
        tables=len(derived),
        rows=sum(len(rows) for _, rows in derived.values()),
        conversions=checked,
    )
