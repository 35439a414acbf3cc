"""``certificate.revoked``: the issuing provider revokes a certificate.

Every conversion that used it is reversed in the same append (the cascade), transitively. The
reason is a code of :data:`~creditbank.accounts.kinds.fields.REASON_CODES`, never free text.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.fields import Body, Identifier, check_reason
from creditbank.accounts.tables import CertificateRow
from creditbank.errors import ConflictError, NotFoundError, PermissionDenied
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "CertificateRevoked"]


class CertificateRevoked(Body):
    certificate_id: Identifier
    #: A reason code (entries appended before codes existed may hold older text).
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def admit(snapshot: Snapshot, body: CertificateRevoked, admission: Admission) -> None:
    cert = snapshot.get(CertificateRow, body.certificate_id)
    if cert is None:
        raise NotFoundError(f"certificate {body.certificate_id!r} does not exist")
    if cert.provider != admission.actor.actor_id:
        raise PermissionDenied(
            f"certificate {body.certificate_id} was issued by {cert.provider}, "
            f"not {admission.actor.actor_id}"
        )
    if cert.revoked_at is not None:
        raise ConflictError(f"certificate {body.certificate_id} is already revoked")
    check_reason(body.reason)


def project(session: Session, index: int, leaf: Leaf, body: CertificateRevoked) -> None:
    row = session.get(CertificateRow, body.certificate_id)
    if row is not None:
        row.revoked_index, row.revoked_at, row.revoke_reason = (
            index,
            leaf.integrated_at,
            body.reason,
        )
        session.add(row)


def learner_of(snapshot: Snapshot, body: CertificateRevoked) -> str | None:
    cert = snapshot.get(CertificateRow, body.certificate_id)
    return None if cert is None else cert.learner_id


def cascade(_snapshot: Snapshot, body: CertificateRevoked) -> set[str]:
    return {body.certificate_id}


def rows(body: CertificateRevoked) -> list[RowKey]:
    return [(CertificateRow, body.certificate_id)]


KIND = Kind(
    entry_type="certificate.revoked",
    body=CertificateRevoked,
    signers=("provider",),
    poster="provider",
    route="/v1/certificates/{certificate_id}/revoke",
    admit=admit,
    project=project,
    rows=rows,
    learner_of=learner_of,
    cascade=cascade,
)
