"""Importing a cohort file: signed entries, posted in whole batches, idempotent, resumable.

Each good row becomes one signed entry whose nonce is derived from the row's key (certificate id,
credit id, or for a learner a keyed hash of the ID number), so a row has the same nonce every time
the file is imported. Before a batch is signed the importer asks the server which of its nonces the
caller already used (:func:`known_nonces`) and leaves those rows out: re-importing a file appends
nothing new, and after a ``kill -9`` re-running the same command resumes after the last batch that
committed (each batch is one all-or-nothing ``POST /v1/batch``).

A learner's nonce is ``HMAC(secret, id_number)`` with a secret derived from the registrar's own
signing key: the ID number never reaches the log, and nobody without the registrar's key can test
a guess against the nonce. The learner id and the commitment's salt stay random.

The importer is handed its effects (sign, post a batch, ask for known nonces, report progress), so
this module stays below the HTTP client and is tested with the real API behind them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, Table, select

from creditbank.accounts.cohort_files import KINDS, CohortFile, CohortRow
from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.errors import CohortFileError, CohortProblem, CreditbankError
from creditbank.ledger import LogEntryRow
from creditbank.ledger.entry import SignedEntry

__all__ = ["BATCH_ROWS", "ImportResult", "Importer", "known_nonces", "row_body", "row_nonce"]

#: Rows per ``POST /v1/batch`` (one transaction and one checkpoint each).
BATCH_ROWS = 500

_ENTRIES: Table = LogEntryRow.__table__  # type: ignore[attr-defined]

Sign = Callable[[str, dict[str, Any], str], SignedEntry]
PostBatch = Callable[[list[tuple[SignedEntry, Identity | None]]], Sequence[Any]]
KnownNonces = Callable[[list[str]], set[str]]
#: A row, its signed entry, and the identity a learner row carries.
_Item = tuple[CohortRow, SignedEntry, Identity | None]


def known_nonces(engine: Engine, actor: str, nonces: Sequence[str]) -> set[str]:
    """Which of ``nonces`` ``actor`` has already used in the log (one indexed query)."""
    if not nonces:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            select(_ENTRIES.c.nonce).where(
                _ENTRIES.c.actor == actor, _ENTRIES.c.nonce.in_(list(nonces))
            )
        )
        return {row[0] for row in rows}


def row_nonce(kind: str, row: CohortRow, secret: bytes) -> str:
    """The row's idempotency key: the same row always gets the same nonce."""
    if kind == "learners":
        digest = hmac.new(secret, str(row.values["id_number"]).encode(), hashlib.sha256)
        return "imp-l-" + digest.hexdigest()[:40]
    key = str(row.values[KINDS[kind][1][0].name])  # the file's key column (certificate id ...)
    return f"imp-{kind[:4]}-" + hashlib.sha256(key.encode()).hexdigest()[:40]


def row_body(kind: str, row: CohortRow) -> dict[str, Any]:
    """The entry body of a row of every kind but ``learners`` (whose body needs a fresh salt).

    The web pages sign exactly this body in the browser, as the CLI signs it in Python.
    """
    if kind == "learners":
        raise ValueError("a learner row's body is made with its salt (Importer._entry)")
    return {"v": 1} | {
        k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.values.items()
    }


@dataclass
class ImportResult:
    appended: int = 0
    already: int = 0
    batches: int = 0
    rejected: list[CohortProblem] = field(default_factory=list)
    #: (row, learner_id) of learners registered by this run
    learner_ids: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Importer:
    """Posts a checked cohort file; see the module docstring."""

    sign: Sign
    post_batch: PostBatch
    known: KnownNonces
    secret: bytes
    partial: bool = False
    batch_rows: int = BATCH_ROWS
    progress: Callable[[int], None] = lambda _done: None

    def run(self, cohort: CohortFile) -> ImportResult:
        """Post the file's batches in order, one at a time, while the next one is prepared.

        Looking up a batch's known nonces and signing its rows is the client's work; appending
        the previous batch is the server's. Done one after the other, the server waited about
        half the time for the client; overlapped (a single posting thread, so batches still
        commit in file order and a kill leaves whole batches only), 10,000 rows take 5.3 s on
        two cores (``bench/bench_import.py``).
        """
        if cohort.problems and not self.partial:
            raise CohortFileError(cohort.problems)
        result = ImportResult(rejected=list(cohort.problems))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-post") as poster:
            in_flight: list[tuple[Future[None], int]] = []  # at most one batch, and its size
            for start in range(0, len(cohort.rows), self.batch_rows):
                chunk = cohort.rows[start : start + self.batch_rows]
                items = self._prepare(cohort, chunk, result)
                for posted, rows in in_flight:
                    posted.result()  # the previous batch committed (or this raises)
                    self.progress(rows)
                in_flight = [(poster.submit(self._post, cohort, items, result), len(chunk))]
            for posted, rows in in_flight:
                posted.result()
                self.progress(rows)
        return result

    def _prepare(
        self, cohort: CohortFile, chunk: list[CohortRow], result: ImportResult
    ) -> list[_Item]:
        """The chunk's rows the log does not have yet, signed."""
        nonces = {row.row: row_nonce(cohort.kind, row, self.secret) for row in chunk}
        seen = self.known(list(nonces.values()))
        pending = [row for row in chunk if nonces[row.row] not in seen]
        result.already += len(chunk) - len(pending)
        return [(row, *self._entry(cohort.kind, row, nonces[row.row])) for row in pending]

    def _post(self, cohort: CohortFile, items: list[_Item], result: ImportResult) -> None:
        """One ``POST /v1/batch``; with ``partial``, a refused row is left out and the rest
        re-posted."""
        while items:
            try:
                self.post_batch([(signed, identity) for _, signed, identity in items])
            except CreditbankError as exc:
                if exc.item is None or not 0 <= exc.item < len(items):
                    raise
                row = items[exc.item][0]
                problem = CohortProblem(
                    cohort.path, row.row, None, f"服务器拒绝该行：{exc}", f"refused: {exc}"
                )
                if not self.partial:
                    raise CohortFileError([problem], appended=result.appended) from exc
                result.rejected.append(problem)
                del items[exc.item]
                continue
            result.appended += len(items)
            result.batches += 1
            if cohort.kind == "learners":
                result.learner_ids.extend(
                    (row.row, str(signed.entry.body["learner_id"])) for row, signed, _ in items
                )
            break

    def _entry(self, kind: str, row: CohortRow, nonce: str) -> tuple[SignedEntry, Identity | None]:
        entry_type = KINDS[kind][0]
        values = row.values
        if kind == "learners":
            identity = Identity(name=values["name"], id_number=values["id_number"], salt=new_salt())
            body = {"v": 1, "learner_id": new_learner_id(), "commitment": commitment_of(identity)}
            return self.sign(entry_type, body, nonce), identity
        return self.sign(entry_type, row_body(kind, row), nonce), None


def learner_secret(private_key_bytes: bytes) -> bytes:
    """The key of learner-row nonces, derived from (never equal to) the registrar's signing key."""
    return hmac.new(
        private_key_bytes, b"creditbank cohort learner nonces v1", hashlib.sha256
    ).digest()
