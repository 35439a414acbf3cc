"""What a witness remembers, durably: the latest checkpoint it cosigned for each log.

SQLite in WAL mode with ``synchronous=FULL``: the new size is on disk before the cosignature
leaves. Compare-and-set runs under ``BEGIN IMMEDIATE``, so two requests can never both pass the
old-size check and roll a log back (the race the specification describes). Refused requests that
carry a valid log signature are kept as evidence of misbehaviour.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

__all__ = ["LogState", "WitnessState"]

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS witness_log_state (
    origin TEXT PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root_hash BLOB NOT NULL,
    checkpoint TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    request TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LogState:
    origin: str
    tree_size: int
    root_hash: bytes
    checkpoint: str


class WitnessState:
    """The witness's SQLite file. One connection, serialised by a lock (a witness is small)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def latest(self, origin: str) -> LogState | None:
        row = self._db.execute(
            "SELECT tree_size, root_hash, checkpoint FROM witness_log_state WHERE origin = ?",
            (origin,),
        ).fetchone()
        return LogState(origin, row[0], bytes(row[1]), row[2]) if row else None

    def compare_and_set(
        self, origin: str, decide: Callable[[LogState | None], _T], new: LogState, now: int
    ) -> _T:
        """Run ``decide`` on the state on record and, if it returns, store ``new``; atomically.

        ``decide`` raises to refuse; then nothing is stored.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = decide(self.latest(origin))
                self._db.execute(
                    "INSERT INTO witness_log_state VALUES (?, ?, ?, ?, ?) ON CONFLICT(origin) DO "
                    "UPDATE SET tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
                    "checkpoint = excluded.checkpoint, updated_at = excluded.updated_at",
                    (origin, new.tree_size, new.root_hash, new.checkpoint, now),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def record_evidence(self, origin: str, reason: str, request: str, now: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO witness_evidence (origin, received_at, reason, request) "
                "VALUES (?, ?, ?, ?)",
                (origin, now, reason, request),
            )

    def evidence(self, origin: str) -> list[tuple[str, str]]:
        return [
            (row[0], row[1])
            for row in self._db.execute(
                "SELECT reason, request FROM witness_evidence WHERE origin = ? ORDER BY id",
                (origin,),
            )
        ]
