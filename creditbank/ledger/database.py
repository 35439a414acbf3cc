"""Engines for the two supported databases, configured the way the log needs them.

SQLite (the embedded default): WAL so readers never block the writer, a busy timeout so concurrent
writers queue instead of failing, and ``BEGIN IMMEDIATE`` for write transactions so the writers'
lock is taken *before* the log head is read (a deferred transaction would read, then fail to
upgrade, or worse, two writers would both read the same head). PostgreSQL (production): the psycopg
3 driver, a pool, and a row lock on the log head (see :mod:`creditbank.ledger.sql`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from creditbank.errors import StorageError

__all__ = ["SINGLE_STATEMENT_OPTIONS", "WRITE_OPTIONS", "is_sqlite", "make_engine", "normalise_url"]

#: Execution options that mark a connection as a writer (SQLite then begins IMMEDIATE).
WRITE_OPTIONS: dict[str, Any] = {"creditbank_writer": True}
#: Execution options for a connection that only runs reads of one statement each (the API's
#: token lookup and balance). SQLite then says no BEGIN: each statement is its own transaction,
#: which reads one snapshot, and a BEGIN and its ROLLBACK cost as much as the lookup itself.
#: Never for a reader that needs two statements to agree with each other.
SINGLE_STATEMENT_OPTIONS: dict[str, Any] = {"creditbank_single_statement": True}


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 5) -> Engine:
    """An engine for ``url``. ``schema`` (PostgreSQL only) isolates a test's tables."""
    try:
        parsed = make_url(normalise_url(url))
    except Exception as exc:  # sqlalchemy raises ArgumentError for garbage URLs
        raise StorageError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(str(parsed.render_as_string(hide_password=False)))
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if schema is not None:
            connect_args["options"] = f"-csearch_path={schema}"
        return create_engine(
            parsed,
            connect_args=connect_args,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
        )
    raise StorageError(f"unsupported database {backend!r}: use sqlite or postgresql")


def _sqlite_engine(url: str) -> Engine:
    memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 60}}
    if memory:
        kwargs["poolclass"] = StaticPool  # one shared in-memory database
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so we can say BEGIN IMMEDIATE ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed append survives power loss, not only a process crash.
        cursor.execute("PRAGMA synchronous=FULL" if not memory else "PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("creditbank_single_statement", False):
            return  # autocommit: the driver's rollback at the end is then a no-op
        conn.exec_driver_sql(
            "BEGIN IMMEDIATE" if options.get("creditbank_writer", False) else "BEGIN"
        )

    return engine
