"""The credit bank: validate a signed entry against current state, append it, project it.

Three doors lead to one write path (:class:`~creditbank.accounts.unit_of_work.UnitOfWork`, which
checks each entry through its kind in :mod:`creditbank.accounts.kinds`): :meth:`CreditBank.submit`
(one entry), :meth:`CreditBank.submit_batch` (all or nothing) and :meth:`CreditBank.submit_group`
(independent submissions sharing one commit). Inside one log batch (the writers' lock held, one
database transaction) each entry is parsed, its signature verified, its signer's key and role
checked, replays answered, its kind's rules applied; then it is appended, projected and, when it
withdraws a source, followed by the cascade of reversals signed by the log's system actor. A
failure rolls back the log batch and the read models together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.identity import Identity
from creditbank.accounts.identity_vault import shred_identity
from creditbank.accounts.kinds import parse_body
from creditbank.accounts.learner_holdings import learner_holdings, recognised_in
from creditbank.accounts.names import DEFAULT_TIMEZONE
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.snapshot import SessionSnapshot
from creditbank.accounts.tables import LearnerRow, MappingRow
from creditbank.accounts.tokens import Principal, authenticate, issue_token, revoke_token
from creditbank.accounts.transcript import build_transcript
from creditbank.accounts.unit_of_work import (
    Receipt,
    Staged,
    Submission,
    UnitOfWork,
    earlier_receipt,
)
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
    StorageError,
)
from creditbank.ledger import SqlTransaction
from creditbank.ledger.chain import INDEX_ENTRY_TYPE, LearnerChains
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.log import Appended, Batch, Log
from creditbank.mapping import Catalog, Holdings, Mapping, Plan, Programme, plan

__all__ = ["SYSTEM_ACTOR", "CreditBank", "Receipt", "Submission"]


class CreditBank:
    """The accounts domain over one database and one log."""

    def __init__(
        self,
        engine: Engine,
        log: Log,
        programmes: Sequence[Programme],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timezone: tzinfo = DEFAULT_TIMEZONE,
    ) -> None:
        self.engine = engine
        #: Calendar days (issue dates, as-of dates) are counted in this zone.
        self.timezone = timezone
        self.log = log
        self.programmes = tuple(programmes)
        self.clock = clock
        self._catalog_cache: tuple[tuple[int, int, int], Catalog] | None = None
        # h5 (issue 11): the log chains each learner's entries and commits the learner index.
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
        apply_entry(self._session(batch), appended.index, appended.leaf, body)

    # --- the catalogue as the log has built it ------------------------------------------------

    def catalog(self, session: Session) -> Catalog:
        """Programmes plus every approved, unretired mapping version (cached per log state).

        A version registered but not approved by its programme's institution is only proposed
        and counts nowhere (issue 12)."""
        unretired = col(MappingRow.retired_at).is_(None) & col(MappingRow.approved_at).is_not(None)
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
        outcomes: list[Staged | Exception] = []
        with self._unit_of_work(items) as work:
            for item in items:
                try:
                    with work.attempt():
                        outcomes.append(work.stage(item))
                except Exception as exc:  # noqa: BLE001 - each submission's failure is its own
                    # Returned, not logged: the caller's edge (the API's error handler) writes one
                    # line with a correlation id; a traceback here could carry database values.
                    outcomes.append(exc)
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
            snapshot = SessionSnapshot(session, self.catalog, self._programme_index())
            work = UnitOfWork(
                self.log, batch, session, snapshot, self._system_key_or_none(), self.timezone
            )
            work.prefetch(items)
            yield work
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
            return learner_balance(session, learner_id, as_of, tz=self.timezone)

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
        day = today or self.clock().astimezone(self.timezone).date()
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
        witnessed = CosignedStore(self.engine).latest()
        with Session(self.engine) as session:
            return build_transcript(session, self.log, learner_id, witnessed=witnessed)

    # --- credentials and personal data --------------------------------------------------------

    def issue_token(
        self,
        *,
        actor_id: str | None = None,
        learner_id: str | None = None,
        label: str = "",
        by: Principal | None = None,
    ) -> str:
        with Session(self.engine) as session:
            token = issue_token(
                session,
                now=self.clock(),
                actor_id=actor_id,
                learner_id=learner_id,
                label=label,
                by=by,
            )
            session.commit()
            return token

    def authenticate(self, token: str) -> Principal:
        with Session(self.engine) as session:
            return authenticate(session, token)

    def revoke_token(self, token_hash: str, *, by: Principal | None = None) -> None:
        with Session(self.engine) as session:
            revoke_token(session, token_hash, now=self.clock(), by=by)
            session.commit()

    def erase_learner(self, learner_id: str) -> None:
        """Delete a learner's personal data and salt; their entries and balance remain."""
        shred_identity(self.engine, learner_id)


def _require_learner(session: Session, learner_id: str) -> None:
    if session.get(LearnerRow, learner_id) is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")
