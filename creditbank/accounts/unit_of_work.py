"""One append transaction: the log batch and the read models, staged and undone together.

The bank opens a :class:`UnitOfWork` inside :meth:`creditbank.ledger.log.Log.batch` (the writers'
lock is held; one database transaction). :meth:`UnitOfWork.stage` takes one submission through
the checks in their fixed order:

1. parse: the kind of the entry type and its typed body (once);
2. the signature verifies, then key authority (the key is a current key of an actor whose role
   may sign the kind): nothing about the database is read before the signature has verified;
3. replay: an ``(actor, nonce)`` already in the log answers the original receipt when the entry is
   byte-identical (``Receipt(replayed=True)``) and is refused (409) when it is not;
4. the claimed time, then the kind's admission rules over a snapshot of current state;
5. append, project, keep the identity (learner registrations), and run the kind's cascade.

Nothing is flushed per entry: read-model rows are staged (:mod:`~creditbank.accounts.staged_rows`)
and written once per group, or when a later check queries for them.

:meth:`UnitOfWork.attempt` wraps work so that, if anything in it raises, the staged leaves and the
read models return to where they were (a savepoint plus the batch's own undo), while what was
staged before it stays. :meth:`UnitOfWork.stage_each` (group commit) is optimistic: it stages the
whole group inside *one* attempt. Only if a submission fails (a refusal or any unexpected
exception) is the group undone and staged again one attempt per submission, the failed one
answered with its error without being run again: a failure stays its own, and the common case
pays one savepoint per group instead of one savepoint and one flush per submission.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session

from creditbank.accounts.admission import check_claimed_at, check_signer
from creditbank.accounts.cascade import SYSTEM_ACTOR, reverse_dependents
from creditbank.accounts.identity import Identity
from creditbank.accounts.identity_vault import seal_identity
from creditbank.accounts.kinds import KINDS, Admission, Body, kind_of, parse_body
from creditbank.accounts.kinds.base import RowKey
from creditbank.accounts.names import DEFAULT_TIMEZONE
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.snapshot import SessionSnapshot
from creditbank.accounts.staged_rows import StagedRows
from creditbank.accounts.tables import ActorKeyRow, ActorRow
from creditbank.errors import CreditbankError, DuplicateNonceError, InputError, StorageError
from creditbank.ledger.entry import Leaf, SignedEntry
from creditbank.ledger.log import Batch, Log
from creditbank.ledger.merkle import leaf_hash

__all__ = ["Receipt", "Staged", "Submission", "UnitOfWork", "earlier_receipt"]


@dataclass(frozen=True)
class Receipt:
    """What an accepted entry got: its index and the signed checkpoint that covers it."""

    index: int
    entry_type: str
    leaf_hash: bytes
    tree_size: int
    checkpoint: str
    #: Indices of entries the bank appended as consequences (revocation cascades).
    consequences: tuple[int, ...] = field(default=())
    #: True when this answers a retry of an entry that was already in the log.
    replayed: bool = False


@dataclass(frozen=True)
class Submission:
    """One signed entry to append, with the identity a learner registration carries."""

    signed: SignedEntry
    identity: Identity | None = None


#: What staging one submission produced: a new entry (index, consequences) or a replay.
Staged = tuple[int, list[int]] | Receipt


def _same_entry(leaf: Leaf, signed: SignedEntry) -> bool:
    return (
        leaf.signed.entry.canonical == signed.entry.canonical
        and leaf.signed.signature_json() == signed.signature_json()
    )


def earlier_receipt(log: Log, signed: SignedEntry) -> Receipt | None:
    """The original receipt of ``signed`` if it is already in the log; ``None`` if its nonce is
    unused; :class:`DuplicateNonceError` if the nonce holds a different entry."""
    entry = signed.entry
    found = log.find(entry.actor, entry.nonce)
    if found is None:
        return None
    index, leaf, checkpoint = found
    if not _same_entry(leaf, signed):
        raise DuplicateNonceError(
            f"actor {entry.actor} already used nonce {entry.nonce} for another entry "
            f"(log index {index}); sign a new entry with a fresh nonce"
        )
    consequences: list[int] = []
    # Cascade reversals are appended by the system actor right behind their cause.
    for idx, follower in log.leaves(index + 1, checkpoint.tree_size):
        if follower.entry.actor != SYSTEM_ACTOR or follower.entry.type != "conversion.reversed":
            break
        consequences.append(idx)
    return Receipt(
        index=index,
        entry_type=leaf.entry.type,
        leaf_hash=leaf_hash(leaf.data),
        tree_size=checkpoint.tree_size,
        checkpoint=checkpoint.note,
        consequences=tuple(consequences),
        replayed=True,
    )


class UnitOfWork:
    """The batch and the session of one append transaction, and the checks that fill them."""

    def __init__(
        self,
        log: Log,
        batch: Batch,
        session: Session,
        snapshot: SessionSnapshot,
        system_key: Ed25519PrivateKey | None,
        timezone: tzinfo = DEFAULT_TIMEZONE,
        staged: StagedRows | None = None,
    ) -> None:
        self.log = log
        self.timezone = timezone
        self.batch = batch
        self.session = session
        self.snapshot = snapshot
        self.now: datetime = batch.now
        self._system_key = system_key
        self._used: set[tuple[str, str]] = set()
        self._bodies: dict[int, Body] = {}
        self._staged = staged

    def prefetch(self, submissions: Sequence[Submission]) -> None:
        """Ask the log once for the whole group which nonces are used, and load the rows the
        group's checks will read: one query per table, not several per entry."""
        pairs = [(s.signed.entry.actor, s.signed.entry.nonce) for s in submissions]
        self._used = self.batch.used_nonces(pairs) if pairs else set()
        wanted: list[RowKey] = []
        for submission in submissions:
            signed = submission.signed
            wanted += [(ActorRow, signed.entry.actor), (ActorKeyRow, signed.key_id)]
            kind = KINDS.get(signed.entry.type)
            if kind is None:
                continue
            try:
                body = parse_body(signed.entry.type, signed.entry.body)
            except CreditbankError:
                continue  # refused again, with its reason, when it is staged
            self._bodies[id(signed)] = body
            wanted += kind.rows(body)
        self.snapshot.preload(wanted)

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Stage inside this block; if it raises, undo it (log batch and read models)."""
        mark = None if self._staged is None else self._staged.mark()  # writes what is pending
        savepoint = self.session.begin_nested()
        try:
            with self.batch.attempt():
                yield
                if self._staged is not None:
                    self._staged.flush()
                self.session.flush()
        except BaseException:
            savepoint.rollback()
            if self._staged is not None and mark is not None:
                self._staged.reset(mark)
            raise
        savepoint.commit()

    def stage_each(self, submissions: Sequence[Submission]) -> list[Staged | Exception]:
        """Stage independent submissions; each one that fails (for any reason) fails alone.

        Optimistic (see the module docstring): one attempt for the whole group; after a failure,
        one attempt per submission, with the failed one's error kept rather than run again."""
        staged: list[Staged] = []
        try:
            with self.attempt():
                for submission in submissions:
                    staged.append(self.stage(submission))
        except Exception as exc:  # noqa: BLE001 - undone; each submission's failure is its own
            failed_at, failure = len(staged), exc  # == len(submissions): the group's final flush
        else:
            return list(staged)
        outcomes: list[Staged | Exception] = []
        for position, submission in enumerate(submissions):
            if position == failed_at:
                outcomes.append(failure)
                continue
            try:
                with self.attempt():
                    outcomes.append(self.stage(submission))
            except Exception as exc:  # noqa: BLE001 - returned to its own caller
                # Returned, not logged: the caller's edge (the API's error handler) writes one
                # line with a correlation id; a traceback here could carry database values.
                outcomes.append(exc)
        return outcomes

    def stage(self, submission: Submission) -> Staged:
        """Check and stage one submission, in the order the module docstring gives."""
        signed, identity = submission.signed, submission.identity
        entry = signed.entry
        kind = kind_of(entry.type)
        body = self._bodies.get(id(signed)) or parse_body(entry.type, entry.body)
        signed.verify()
        actor = check_signer(self.snapshot, signed, kind, now=self.now)
        if (entry.actor, entry.nonce) in self._used:
            replayed = earlier_receipt(self.log, signed)
            if replayed is not None:
                return replayed
        if self.batch.staged(entry.actor, entry.nonce):
            # The same nonce earlier in this transaction (a retry racing its original): refused
            # here; the caller answers the original's receipt once the transaction committed.
            raise DuplicateNonceError(f"actor {entry.actor} used nonce {entry.nonce} twice")
        check_claimed_at(signed, self.now)
        if identity is not None and not kind.carries_identity:
            raise InputError(
                f"an identity is only accepted with learner registrations, not {kind.entry_type}"
            )
        kind.admit(self.snapshot, body, Admission(signed, actor, self.now, identity, self.timezone))
        # The group's nonces were asked once (prefetch); this one was not among the used ones.
        # The log chains the entry into its learner's history (snapshot before applying).
        learner = kind.learner_of(self.snapshot, body)
        appended = self.batch.add(signed, verified=True, nonce_checked=True, learner=learner)
        apply_entry(self.session, appended.index, appended.leaf, body)
        if identity is not None:
            learner_id = kind.learner_of(self.snapshot, body)
            if learner_id is None:  # pragma: no cover - a kind carrying identity names its learner
                raise StorageError(f"{kind.entry_type} carries an identity but names no learner")
            # Sealed under the learner's own data key: erasure destroys the key (crypto-shredding).
            seal_identity(
                self.session,
                learner_id,
                name=identity.name,
                id_number=identity.id_number,
                salt=identity.salt,
            )
        consequences: list[int] = []
        withdrawn = kind.cascade(self.snapshot, body)
        if withdrawn:
            if self._system_key is None:
                raise StorageError("appending needs the log key")
            consequences = reverse_dependents(
                self.batch,
                self.session,
                self._system_key,
                withdrawn,
                self.now,
                lambda index, leaf, reversal: apply_entry(self.session, index, leaf, reversal),
            )
        return appended.index, consequences
