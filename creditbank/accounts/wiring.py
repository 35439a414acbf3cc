"""Assemble a running credit bank from explicit values: engine, log, key (programmes come from
the log's ``programme.registered`` entries, never from a file).

``api`` and ``cli`` read settings and call these; the core never reads the environment. One place
builds the object graph so the server, the CLI and the tests wire it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.migrate import upgrade
from creditbank.ledger import SqlLogStore
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.database import make_engine
from creditbank.ledger.keys import load_private_key
from creditbank.ledger.log import Log
from creditbank.mapping import Programme, load_catalog

__all__ = [
    "BankConfig",
    "create_schema",
    "load_programmes",
    "open_bank",
    "shipped_data_dir",
]


def shipped_data_dir() -> Path:
    """The shipped qualification map and programmes: package data, also in a non-editable install.

    (``creditbank/data`` links to the repository's ``data/``; the wheel carries the files.)
    """
    return Path(str(resources.files("creditbank") / "data"))


def load_programmes(data_dir: Path) -> tuple[Programme, ...]:
    """Programmes (courses, totals, caps) from the shipped files: what the demo and the tests
    sign and post as ``programme.registered`` entries (the bank reads programmes from the log)."""
    catalog = load_catalog(data_dir / "qualification_map.csv", data_dir / "programmes.csv")
    return catalog.programmes


def create_schema(engine: Engine) -> None:
    """Migrate the database to the current schema (log tables, triggers, read models)."""
    upgrade(engine)


@dataclass(frozen=True)
class BankConfig:
    database_url: str
    log_key_file: Path
    log_key_passphrase: bytes | None
    origin: str
    data_dir: Path
    #: IANA zone whose calendar days the rules count in (``CREDITBANK_TIMEZONE``).
    timezone: str = "Asia/Shanghai"


@contextmanager
def open_bank(
    config: BankConfig,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[CreditBank]:
    """A credit bank over the configured database with the log key loaded; closed on exit."""
    own_engine = engine is None
    engine = engine or make_engine(config.database_url)
    try:
        key = load_private_key(config.log_key_file, passphrase=config.log_key_passphrase)
        store = SqlLogStore(engine)
        with Log.open(store, origin=config.origin, signer=NoteSigner(config.origin, key)) as log:
            yield CreditBank(
                engine,
                log,
                clock=clock,
                timezone=ZoneInfo(config.timezone),
            )
    finally:
        if own_engine:
            engine.dispose()
