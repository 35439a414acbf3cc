"""The credit bank: validate a signed entry against current state, append it, project it.

:meth:`CreditBank.submit` is the single write path. Inside one log batch (the writers' lock held,
one database transaction) it parses the typed body, checks the signer's key and role, applies the
rules of :mod:`creditbank.accounts.rules` (and, for conversions, the mapping layer's own rule
engine), appends the entry, updates the read models and, when a certificate is revoked, appends a
``conversion.reversed`` signed by the log's system actor for every conversion that used it,
transitively. Any failure rolls all of it back: the ledger and the read models stay exactly as they
were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from creditbank.accounts import schemas as s
from creditbank.accounts.cascade import SYSTEM_ACTOR, recognised_ids, reverse_dependents
from creditbank.accounts.holdings import learner_holdings, recognised_in
from creditbank.accounts.identity import Identity, erase_identity, matches
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.rules import check_conversion, check_mapping, check_signer, validate_body
from creditbank.accounts.tables import (
    LearnerIdentityRow,
    LearnerRow,
    MappingRow,
)
from creditbank.accounts.tokens import Principal, authenticate, issue_token, revoke_token
from creditbank.accounts.transcript import build_transcript
from creditbank.accounts.views import (
    ExpiringItem,
    LearnerBalance,
    Progress,
    expiring_soon,
    learner_balance,
    progress_toward,
)
from creditbank.errors import (
    ConflictError,
    CreditbankError,
    InputError,
    NotFoundError,
    RuleViolation,
    StorageError,
)
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.log import Batch, Log
from creditbank.ledger.sql import SqlTransaction
from creditbank.mapping import Catalog, Holdings, Mapping, Plan, Programme, plan

__all__ = ["SYSTEM_ACTOR", "CreditBank", "Receipt", "Submission"]


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


@dataclass(frozen=True)
class Submission:
    """One signed entry to append, with the identity a learner registration carries."""

    signed: SignedEntry
    identity: Identity | None = None


class CreditBank:
    """The accounts domain over one database and one log."""

    def __init__(
        self,
        engine: Engine,
        log: Log,
        programmes: Sequence[Programme],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.log = log
        self.programmes = tuple(programmes)
        self.clock = clock
        self._catalog_cache: tuple[tuple[int, int, int], Catalog] | None = None

    # --- the catalogue as the log has built it ------------------------------------------------

    def catalog(self, session: Session) -> Catalog:
        """Programmes plus every registered, unretired mapping version (cached per log state)."""
        unretired = col(MappingRow.retired_at).is_(None)
        # The key is an aggregate, so a cache hit reads one row, not every mapping's JSON.
        count, last, total = session.exec(
            select(
                func.count(),
                func.coalesce(func.max(MappingRow.registered_index), -1),
                func.coalesce(func.sum(MappingRow.registered_index), 0),
            ).where(unretired)
        ).one()
        key = (int(count), int(last), int(total))
        if self._catalog_cache is not None and self._catalog_cache[0] == key:
            return self._catalog_cache[1]
        rows = session.exec(select(MappingRow).where(unretired))
        mappings = [Mapping.from_json(json.loads(r.mapping_json)) for r in rows]
        catalog = Catalog(programmes=self.programmes, mappings=tuple(mappings))
        self._catalog_cache = (key, catalog)
        return catalog

    # --- writing ------------------------------------------------------------------------------

    def bootstrap(self, *, admin_id: str, admin_name: str, admin_public_key: str) -> list[Receipt]:
        """Genesis: the system actor (the log key) registers itself, then the first admin.

        Only on an empty log; the two entries are the root of every later signature's authority.
        """
        key = self._system_key()
        now = self.clock()

        def register(nonce: str, body: s.ActorRegistered) -> SignedEntry:
            entry = Entry.create(
                type="actor.registered",
                actor=SYSTEM_ACTOR,
                nonce=nonce,
                claimed_at=now,
                body=body.model_dump(mode="json"),
            )
            return sign_entry(entry, key)

        system_key = public_key_to_b64(key.public_key())
        genesis = (
            register(
                "genesis-system",
                s.ActorRegistered(
                    actor_id=SYSTEM_ACTOR,
                    role="system",
                    name="creditbank log",
                    public_key=system_key,
                ),
            ),
            register(
                "genesis-admin",
                s.ActorRegistered(
                    actor_id=admin_id, role="admin", name=admin_name, public_key=admin_public_key
                ),
            ),
        )
        with self.log.batch(now=now) as batch:
            if batch.start_size != 0:
                raise ConflictError("the log is not empty; genesis happens once")
            session = self._session(batch)
            receipts = []
            for signed in genesis:
                body = s.parse_body(signed.entry.type, signed.entry.body)
                appended = batch.add(signed)
                apply_entry(session, appended.index, appended.leaf, body)
                receipts.append(appended)
        return [self._receipt(batch, a.index) for a in receipts]

    def submit(self, signed: SignedEntry, *, identity: Identity | None = None) -> Receipt:
        """Validate, append and project one entry (and its consequences), atomically."""
        return self.submit_many([signed], identities={} if identity is None else {0: identity})[0]

    def submit_many(
        self, signed: Sequence[SignedEntry], *, identities: dict[int, Identity] | None = None
    ) -> list[Receipt]:
        """Like :meth:`submit` for several entries in one batch: all are accepted or none."""
        if not signed:
            raise InputError("nothing to submit")
        identities = identities or {}
        now = self.clock()
        with self.log.batch(now=now) as batch:
            session = self._session(batch)
            staged: list[tuple[int, list[int]]] = []
            for position, item in enumerate(signed):
                staged.append(self._stage(batch, session, item, identities.get(position), now))
        return [self._receipt(batch, index, consequences) for index, consequences in staged]

    def submit_batch(self, items: Sequence[Submission]) -> list[Receipt]:
        """Like :meth:`submit_many`, but a refusal names the item that was refused.

        All items are appended in one transaction with one checkpoint, or none is; the error's
        ``item`` is the 0-based position in ``items`` of the submission that was refused.
        """
        if not items:
            raise InputError("nothing to submit")
        now = self.clock()
        staged: list[tuple[int, list[int]]] = []
        with self.log.batch(now=now) as batch:
            session = self._session(batch)
            for position, item in enumerate(items):
                try:
                    staged.append(self._stage(batch, session, item.signed, item.identity, now))
                except CreditbankError as exc:
                    exc.in_item(position)
                    raise
        return [self._receipt(batch, index, consequences) for index, consequences in staged]

    def submit_group(self, items: Sequence[Submission]) -> list[Receipt | CreditbankError]:
        """Append many independent submissions in one transaction and one checkpoint.

        Unlike :meth:`submit_many`, each submission stands alone: it runs in its own savepoint, and
        one that is refused is rolled back (database and staged leaves) without touching the others.
        This is what group commit uses to turn many concurrent requests into one commit.
        """
        if not items:
            return []
        now = self.clock()
        outcomes: list[tuple[int, list[int]] | CreditbankError] = []
        with self.log.batch(now=now) as batch:
            session = self._session(batch)
            for item in items:
                mark = batch.mark()
                savepoint = session.begin_nested()
                try:
                    outcomes.append(self._stage(batch, session, item.signed, item.identity, now))
                    savepoint.commit()
                except CreditbankError as exc:
                    savepoint.rollback()
                    batch.reset(mark)
                    outcomes.append(exc)
        return [
            outcome
            if isinstance(outcome, CreditbankError)
            else self._receipt(batch, outcome[0], outcome[1])
            for outcome in outcomes
        ]

    def _session(self, batch: Batch) -> Session:
        tx = batch.tx
        if not isinstance(tx, SqlTransaction):
            raise StorageError("the credit bank needs an SQL log store")
        return tx.session

    def _stage(
        self,
        batch: Batch,
        session: Session,
        signed: SignedEntry,
        identity: Identity | None,
        now: datetime,
    ) -> tuple[int, list[int]]:
        entry = signed.entry
        spec = s.ENTRY_TYPES.get(entry.type)
        body = s.parse_body(entry.type, entry.body)
        assert spec is not None
        actor = check_signer(session, signed, spec.roles)
        validate_body(session, signed, body, actor, now)
        if isinstance(body, s.LearnerRegistered):
            if identity is None:
                raise InputError(
                    "registering a learner needs their identity (name, ID number, salt)"
                )
            if not matches(identity, body.commitment):
                raise RuleViolation(
                    "the commitment does not match the identity given", code="commitment-mismatch"
                )
        elif identity is not None:
            raise InputError("an identity is only accepted with learner.registered")
        if isinstance(body, s.MappingRegistered):
            check_mapping(session, self.catalog(session), body, actor)
        if isinstance(body, s.ConversionPosted):
            check_conversion(
                session,
                self.catalog(session),
                self.holdings(session, body.learner_id, exclude_programme=body.programme_code),
                body,
            )
        appended = batch.add(signed)
        apply_entry(session, appended.index, appended.leaf, body)
        if identity is not None and isinstance(body, s.LearnerRegistered):
            session.add(
                LearnerIdentityRow(
                    learner_id=body.learner_id,
                    name=identity.name,
                    id_number=identity.id_number,
                    salt=identity.salt,
                )
            )
        consequences: list[int] = []
        if isinstance(body, s.CertificateRevoked):
            consequences = reverse_dependents(
                batch, session, self._system_key(), {body.certificate_id}, appended.index, now
            )
        elif isinstance(body, s.ConversionReversed):
            consequences = reverse_dependents(
                batch,
                session,
                self._system_key(),
                recognised_ids(session, body.conversion_id),
                appended.index,
                now,
            )
        session.flush()
        return appended.index, consequences

    def _system_key(self) -> Ed25519PrivateKey:
        signer = self.log.signer
        if signer is None:
            raise StorageError("appending needs the log key")
        return signer.private_key

    def _receipt(self, batch: Batch, index: int, consequences: Sequence[int] = ()) -> Receipt:
        result = batch.result
        if result is None:
            raise StorageError("the batch did not commit")
        appended = next(a for a in result.entries if a.index == index)
        return Receipt(
            index=index,
            entry_type=appended.leaf.entry.type,
            leaf_hash=appended.leaf_hash,
            tree_size=result.tree_size,
            checkpoint=result.checkpoint,
            consequences=tuple(consequences),
        )

    # --- reading ------------------------------------------------------------------------------

    def _programme_index(self) -> dict[str, Programme]:
        return {p.code: p for p in self.programmes}

    def holdings(
        self, session: Session, learner_id: str, *, exclude_programme: str | None = None
    ) -> Holdings:
        return learner_holdings(
            session, learner_id, self._programme_index(), exclude_programme=exclude_programme
        )

    def balance(self, learner_id: str, as_of: date | None = None) -> LearnerBalance:
        with Session(self.engine) as session:
            return learner_balance(session, learner_id, as_of)

    def progress(self, learner_id: str, programme_code: str, as_of: date | None = None) -> Progress:
        day = as_of or self.clock().date()
        with Session(self.engine) as session:
            _require_learner(session, learner_id)
            return progress_toward(
                session,
                self.catalog(session),
                self.holdings(session, learner_id, exclude_programme=programme_code),
                recognised_in(session, learner_id, programme_code),
                learner_id,
                programme_code,
                day,
            )

    def plan_for(
        self,
        learner_id: str,
        programme_code: str,
        as_of: date | None = None,
        *,
        what_if: Holdings | None = None,
    ) -> Plan:
        """The planner's best allocation for a learner now, optionally with what-if holdings."""
        day = as_of or self.clock().date()
        with Session(self.engine) as session:
            _require_learner(session, learner_id)
            held = self.holdings(session, learner_id, exclude_programme=programme_code)
            if what_if is not None:
                held = Holdings(
                    certificates=held.certificates + what_if.certificates,
                    credits=held.credits + what_if.credits,
                )
            return plan(
                self.catalog(session),
                held,
                programme_code,
                day,
                already_recognised=recognised_in(session, learner_id, programme_code),
            )

    def expiring(self, learner_id: str, days: int, today: date | None = None) -> list[ExpiringItem]:
        if not 0 < days <= 3660:
            raise InputError("days must be between 1 and 3660")
        day = today or self.clock().date()
        with Session(self.engine) as session:
            _require_learner(session, learner_id)
            return expiring_soon(
                session,
                self.catalog(session),
                self.holdings(session, learner_id),
                learner_id,
                day,
                days,
            )

    def transcript(self, learner_id: str) -> dict[str, Any]:
        with Session(self.engine) as session:
            return build_transcript(session, self.log, learner_id)

    # --- credentials and personal data --------------------------------------------------------

    def issue_token(
        self, *, actor_id: str | None = None, learner_id: str | None = None, label: str = ""
    ) -> str:
        with Session(self.engine) as session:
            token = issue_token(
                session, now=self.clock(), actor_id=actor_id, learner_id=learner_id, label=label
            )
            session.commit()
            return token

    def authenticate(self, token: str) -> Principal:
        with Session(self.engine) as session:
            return authenticate(session, token)

    def revoke_token(self, token_hash: str) -> None:
        with Session(self.engine) as session:
            revoke_token(session, token_hash, now=self.clock())
            session.commit()

    def erase_learner(self, learner_id: str) -> None:
        """Delete a learner's personal data and salt; their entries and balance remain."""
        with Session(self.engine) as session:
            erase_identity(session, learner_id)
            session.commit()


def _require_learner(session: Session, learner_id: str) -> None:
    if session.get(LearnerRow, learner_id) is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")
