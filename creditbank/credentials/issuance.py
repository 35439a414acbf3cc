"""Issuing credentials, sharing them, and setting their status bits: the I/O around the documents.

:func:`issue_credential` reads a learner's balance and transcript, signs a ``ClrCredential`` and
keeps it (a repeated request with nothing new in the learner's history answers the credential
already issued). :func:`refresh_statuses` sets the revocation bit of every credential whose
learner's history changed under it, a certificate revoked or a conversion reversed at or after the
tree size the credential states; it runs before any status is read, so a verifier never sees a
stale list.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.credential_rows import IssuedCredentialRow
from creditbank.accounts.identity_vault import SealedIdentityRow, open_identity
from creditbank.accounts.tables import (
    CertificateRow,
    ConversionRow,
    LearnerRow,
)
from creditbank.credentials.document import (
    CredentialFacts,
    achievement_credentials,
    clr_credential,
)
from creditbank.credentials.eddsa_jcs import format_datetime
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.credentials.log_entries import (
    ERASED,
    HISTORY_CHANGED,
    StatusChange,
    proven_entry,
    record_status_changes,
    register_issuing_key,
)
from creditbank.credentials.status_list import MIN_LIST_BITS, status_entry, status_list_credential
from creditbank.errors import NotFoundError, StorageError

__all__ = [
    "IssuedCredential",
    "issue_credential",
    "refresh_statuses",
    "shared_credential",
    "signed_status_list",
]

#: A list is filled to half before the next one is opened, so random indices stay cheap to draw.
_LIST_FILL = MIN_LIST_BITS // 2


@dataclass(frozen=True)
class IssuedCredential:
    credential_uuid: str
    document: dict[str, Any]
    revoked: bool


def _basis(transcript: dict[str, Any], with_name: bool) -> str:
    indices = sorted(int(item["index"]) for item in transcript["entries"])
    text = json.dumps({"indices": indices, "with_name": with_name})
    return hashlib.sha256(text.encode()).hexdigest()


def _allocate(session: Session) -> tuple[int, int]:
    """A random free bit: in the newest list while it is less than half full, else a new one."""
    newest = session.exec(select(func.max(IssuedCredentialRow.status_list))).one() or 1
    used = set(
        session.exec(
            select(IssuedCredentialRow.status_index).where(
                IssuedCredentialRow.status_list == newest
            )
        )
    )
    if len(used) >= _LIST_FILL:
        newest, used = newest + 1, set()
    while True:
        index = secrets.randbelow(MIN_LIST_BITS)
        if index not in used:
            return newest, index


def _facts(
    bank: CreditBank, session: Session, learner_id: str, transcript: dict[str, Any], name: bool
) -> CredentialFacts:
    learner_name = None
    if name:
        try:
            learner_name = open_identity(session, learner_id).name
        except NotFoundError:
            raise NotFoundError(
                f"no name is on record for learner {learner_id!r} (erased?)"
            ) from None
    catalog = bank.catalog(session)
    return CredentialFacts(
        learner_id=learner_id,
        balance=bank.balance(learner_id),
        transcript=transcript,
        qualification_names={q.code: q.name for q in catalog.qualifications},
        programmes={p.code: p for p in bank.programmes},
        name=learner_name,
    )


def issue_credential(
    bank: CreditBank,
    issuer: CredentialIssuer,
    learner_id: str,
    *,
    include_name: bool,
    now: datetime,
) -> IssuedCredential:
    """The learner's current credential: the one already issued if nothing changed, else new."""
    with Session(bank.engine) as session:
        if session.get(LearnerRow, learner_id) is None:
            raise NotFoundError(f"learner {learner_id!r} is not registered")
    refresh_statuses(bank, now=now)
    key_index = register_issuing_key(bank, issuer.private_key.public_key(), now=now)
    transcript = bank.transcript(learner_id)
    basis = _basis(transcript, include_name)
    with Session(bank.engine) as session:
        current = session.exec(
            select(IssuedCredentialRow)
            .where(IssuedCredentialRow.learner_id == learner_id)
            .where(IssuedCredentialRow.basis == basis)
            .where(col(IssuedCredentialRow.revoked_at).is_(None))
        ).first()
        if current is not None:
            return IssuedCredential(current.credential_id, json.loads(current.document), False)
        facts = replace(
            _facts(bank, session, learner_id, transcript, include_name),
            key_registration=proven_entry(bank, key_index, int(transcript["tree_size"])),
        )
        for _attempt in range(3):
            try:
                return _sign_and_keep(session, issuer, facts, basis, now)
            except IntegrityError:  # another process drew the same bit: draw again
                session.rollback()
        raise StorageError("could not allocate a status list bit; try again")


def _sign_and_keep(
    session: Session,
    issuer: CredentialIssuer,
    facts: CredentialFacts,
    basis: str,
    now: datetime,
) -> IssuedCredential:
    list_number, index = _allocate(session)
    credential_uuid = str(uuid.uuid4())
    credential_id = f"urn:uuid:{credential_uuid}"
    valid_from = format_datetime(now)
    status = status_entry(issuer.status_list_url(list_number), index)
    unsigned = achievement_credentials(
        facts,
        credential_id=credential_id,
        issuer=issuer.profile,
        valid_from=valid_from,
        status=status,
    )
    achievements = [issuer.sign(doc, now=now) for doc in unsigned]
    document = issuer.sign(
        clr_credential(
            facts,
            credential_id=credential_id,
            issuer=issuer.profile,
            valid_from=valid_from,
            status=status,
            achievements=achievements,
        ),
        now=now,
    )
    session.add(
        IssuedCredentialRow(
            credential_id=credential_uuid,
            learner_id=facts.learner_id,
            status_list=list_number,
            status_index=index,
            issued_tree_size=facts.tree_size,
            issued_at=valid_from,
            with_name=facts.name is not None,
            basis=basis,
            document=json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        )
    )
    session.commit()
    return IssuedCredential(credential_uuid, document, False)


def refresh_statuses(bank: CreditBank, *, now: datetime) -> list[str]:
    """Set the bit of every credential whose learner lost a certificate or conversion after it.

    A credential that carries a name whose learner has since been erased is revoked too, and its
    stored document blanked, so the share URL no longer hands the name out. Each bit set is a
    ``credential.status_changed`` log entry (its projection sets the row's bit). Returns the ids
    of the credentials revoked now. Idempotent: a set bit stays set.
    """
    issued = IssuedCredentialRow
    revoked_later = exists().where(
        col(CertificateRow.learner_id) == col(issued.learner_id),
        col(CertificateRow.revoked_index) >= col(issued.issued_tree_size),
    )
    reversed_later = exists().where(
        col(ConversionRow.learner_id) == col(issued.learner_id),
        col(ConversionRow.reversed_index) >= col(issued.issued_tree_size),
    )
    erased = col(issued.with_name) & ~exists().where(
        col(SealedIdentityRow.learner_id) == col(issued.learner_id)
    )
    with Session(bank.engine) as session:
        rows = session.exec(
            select(issued)
            .where(col(issued.revoked_at).is_(None))
            .where(revoked_later | reversed_later | erased)
        ).all()
        gone = {
            row.credential_id
            for row in rows
            if row.with_name and session.get(SealedIdentityRow, row.learner_id) is None
        }
        changes = [
            StatusChange(
                row.status_list,
                row.status_index,
                ERASED if row.credential_id in gone else HISTORY_CHANGED,
            )
            for row in rows
        ]
    if changes:
        record_status_changes(bank, changes, now=now)
    if gone:
        with Session(bank.engine) as session:
            for credential_id in gone:
                row = session.get(issued, credential_id)
                if row is not None:
                    row.document = ""
                    session.add(row)
            session.commit()
    return [row.credential_id for row in rows]


def shared_credential(bank: CreditBank, credential_uuid: str, *, now: datetime) -> dict[str, Any]:
    """The exact signed document of an issued credential (public: the id is the secret)."""
    refresh_statuses(bank, now=now)
    with Session(bank.engine) as session:
        row = session.get(IssuedCredentialRow, credential_uuid)
        if row is None or not row.document:
            raise NotFoundError("no credential has this id")
        document: dict[str, Any] = json.loads(row.document)
        return document


def signed_status_list(
    bank: CreditBank, issuer: CredentialIssuer, list_number: int, *, now: datetime
) -> dict[str, Any]:
    """The ``BitstringStatusListCredential`` of one list, current and signed now."""
    refresh_statuses(bank, now=now)
    with Session(bank.engine) as session:
        newest = session.exec(select(func.max(IssuedCredentialRow.status_list))).one() or 1
        if not 1 <= list_number <= newest:
            raise NotFoundError(f"status list {list_number} does not exist")
        revoked = session.exec(
            select(IssuedCredentialRow.status_index)
            .where(IssuedCredentialRow.status_list == list_number)
            .where(col(IssuedCredentialRow.revoked_at).is_not(None))
        ).all()
    unsigned = status_list_credential(
        issuer.status_list_url(list_number), issuer.profile, format_datetime(now), revoked
    )
    return issuer.sign(unsigned, now=now)
