"""The credit bank: validate a signed entry against current state, append it, project it.

Three doors lead to one write path (:class:`~creditbank.accounts.unit_of_work.UnitOfWork`, which
checks each entry through its kind in :mod:`creditbank.accounts.kinds`): :meth:`CreditBank.submit`
(one entry), :meth:`CreditBank.submit_batch` (all or nothing) and :meth:`CreditBank.submit_group`
(independent submissions sharing one commit). Inside one log batch (the writers' lock held, one
database transaction) each entry is parsed, its signature verified, its signer's key and role
checked, replays answered, its kind's rules applied; then it is appended, projected and, when it
withdraws a source, followed by the cascade of reversals signed by the log's system actor. A
failure rolls back the log batch and the read models together. The reading side (balances, plans,
transcripts, tokens) is :class:`~creditbank.accounts.bank_reads.BankReads`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, tzinfo
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session

from creditbank.accounts.bank_reads import BankReads
from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.identity import Identity
from creditbank.accounts.kinds import parse_body
from creditbank.accounts.names import DEFAULT_TIMEZONE
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.snapshot import SessionSnapshot
from creditbank.accounts.staged_rows import StagedRows, staged_rows
from creditbank.accounts.unit_of_work import (
    Receipt,
    Staged,
    Submission,
    UnitOfWork,
    earlier_receipt,
)
from creditbank.errors import (
    ConflictError,
    CreditbankError,
    InputError,
    StorageError,
)
from creditbank.ledger import SqlTransaction
from creditbank.ledger.chain import INDEX_ENTRY_TYPE, LearnerChains
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.log import Appended, Batch, Log

__all__ = ["SYSTEM_ACTOR", "CreditBank", "Receipt", "Submission"]


class CreditBank(BankReads):
    """The accounts domain over one database and one log: the reads of :class:`BankReads` and
    the one write path."""

    def __init__(
        self,
        engine: Engine,
        log: Log,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timezone: tzinfo = DEFAULT_TIMEZONE,
    ) -> None:
        super().__init__(engine, log, clock=clock, timezone=timezone)
        # (issue 11) the log chains each learner's entries and commits the learner index.
        if log.chains is None and log.signer is not None:
            log.chains = LearnerChains(self._index_entry, self._project_index_entry)

    def _index_entry(self, body: dict[str, Any], now: datetime) -> SignedEntry:
        entry = Entry.create(
            type=INDEX_ENTRY_TYPE,
            actor=SYSTEM_ACTOR,
            nonce=f"learner-index-{body['tree_size']}",
            claimed_at=now,
            body=body,
        )
        return sign_entry(entry, self._system_key())

    def _project_index_entry(self, batch: Batch, appended: Appended) -> None:
        body = parse_body(appended.leaf.entry.type, appended.leaf.entry.body)
        session = self._session(batch)
        apply_entry(session, appended.index, appended.leaf, body)
        staged = staged_rows(session)
        if staged is not None:  # the batch's last entry: write what the group staged
            staged.close()

    # --- writing ------------------------------------------------------------------------------

    def bootstrap(self, *, admin_id: str, admin_name: str, admin_public_key: str) -> list[Receipt]:
        """Genesis: the system actor (the log key) registers itself, then the first admin.

        Only on an empty log; the two entries are the root of every later signature's authority.
        """
        key = self._system_key()
        now = self.clock()

        def register(nonce: str, body: dict[str, str]) -> SignedEntry:
            entry = Entry.create(
                type="actor.registered",
                actor=SYSTEM_ACTOR,
                nonce=nonce,
                claimed_at=now,
                body={"v": 1, **body},
            )
            return sign_entry(entry, key)

        genesis = (
            register(
                "genesis-system",
                {
                    "actor_id": SYSTEM_ACTOR,
                    "role": "system",
                    "name": "creditbank log",
                    "public_key": public_key_to_b64(key.public_key()),
                },
            ),
            register(
                "genesis-admin",
                {
                    "actor_id": admin_id,
                    "role": "admin",
                    "name": admin_name,
                    "public_key": admin_public_key,
                },
            ),
        )
        with self.log.batch(now=now) as batch:
            if batch.start_size != 0:
                raise ConflictError("the log is not empty; genesis happens once")
            session = self._session(batch)
            appended = []
            for signed in genesis:
                body = parse_body(signed.entry.type, signed.entry.body)
                added = batch.add(signed)
                apply_entry(session, added.index, added.leaf, body)
                appended.append(added)
        return [self._receipt(batch, a.index) for a in appended]

    def submit(self, signed: SignedEntry, *, identity: Identity | None = None) -> Receipt:
        """Validate, append and project one entry (and its consequences), atomically.

        An entry already in the log (a retry) answers its original receipt, ``replayed=True``."""
        return self.submit_many([signed], identities={} if identity is None else {0: identity})[0]

    def submit_many(
        self, signed: Sequence[SignedEntry], *, identities: dict[int, Identity] | None = None
    ) -> list[Receipt]:
        """Like :meth:`submit` for several entries in one batch: all are accepted or none."""
        identities = identities or {}
        items = [Submission(item, identities.get(position)) for position, item in enumerate(signed)]
        return self._append_all(items, name_items=False)

    def submit_batch(self, items: Sequence[Submission]) -> list[Receipt]:
        """Append every submission in one transaction and one checkpoint, or none of them.

        A refusal is raised with its ``item`` set to the 0-based position of the submission that
        was refused. Submissions already in the log answer their original receipts.
        """
        return self._append_all(items, name_items=True)

    def _append_all(self, items: Sequence[Submission], *, name_items: bool) -> list[Receipt]:
        if not items:
            raise InputError("nothing to submit")
        with self._unit_of_work(items) as work:
            staged: list[Staged] = []
            for position, item in enumerate(items):
                try:
                    staged.append(work.stage(item))
                except CreditbankError as exc:
                    if name_items:
                        exc.in_item(position)
                    raise
        return [self._answer(work.batch, outcome) for outcome in staged]

    def submit_group(self, items: Sequence[Submission]) -> list[Receipt | Exception]:
        """Append many independent submissions in one transaction and one checkpoint.

        Unlike :meth:`submit_batch`, each submission stands alone: one that fails, for any reason
        (a refusal or an unexpected exception), is undone alone and gets its own error, and the
        others commit. This is what group commit uses to turn concurrent requests into one commit.
        """
        if not items:
            return []
        with self._unit_of_work(items) as work:
            outcomes = work.stage_each(items)
        return [
            outcome if isinstance(outcome, Exception) else self._answer(work.batch, outcome)
            for outcome in outcomes
        ]

    def replayed(self, signed: SignedEntry) -> Receipt | None:
        """The original receipt of ``signed`` if it is in the log (see :func:`earlier_receipt`)."""
        return earlier_receipt(self.log, signed)

    @contextmanager
    def _unit_of_work(self, items: Sequence[Submission]) -> Iterator[UnitOfWork]:
        with self.log.batch(now=self.clock()) as batch:
            session = self._session(batch)
            staged = StagedRows(session)
            snapshot = SessionSnapshot(session, self.catalog, staged)
            work = UnitOfWork(
                self.log,
                batch,
                session,
                snapshot,
                self._system_key_or_none(),
                self.timezone,
                staged,
            )
            work.prefetch(items)
            yield work
            staged.flush()
            session.flush()

    def _session(self, batch: Batch) -> Session:
        tx = batch.tx
        if not isinstance(tx, SqlTransaction):
            raise StorageError("the credit bank needs an SQL log store")
        return tx.session

    def _system_key_or_none(self) -> Ed25519PrivateKey | None:
        signer = self.log.signer
        return None if signer is None else signer.private_key

    def _system_key(self) -> Ed25519PrivateKey:
        key = self._system_key_or_none()
        if key is None:
            raise StorageError("appending needs the log key")
        return key

    def _answer(self, batch: Batch, outcome: Staged) -> Receipt:
        if isinstance(outcome, Receipt):
            return outcome
        return self._receipt(batch, outcome[0], outcome[1])

    def _receipt(self, batch: Batch, index: int, consequences: Sequence[int] = ()) -> Receipt:
        result = batch.result
        if result is None:
            raise StorageError("the batch did not commit")
        appended = result.entries[index - result.entries[0].index]  # consecutive indices
        return Receipt(
            index=index,
            entry_type=appended.leaf.entry.type,
            leaf_hash=appended.leaf_hash,
            tree_size=result.tree_size,
            checkpoint=result.checkpoint,
            consequences=tuple(consequences),
        )
