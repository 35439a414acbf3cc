"""``credential.status_changed``: the bank sets a credential's Bitstring Status List bit.

Appended by the system actor when a learner's history changes under a credential already issued
(a certificate revoked, a conversion reversed) or a named credential's learner is erased. The
entry names only the list and the bit, not the learner or the credential: the log shows that and
when a bit was set, without tying a status bit to a person for everyone to read.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from sqlmodel import Session, select

from creditbank.accounts.credential_rows import IssuedCredentialRow
from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import Body, check_reason
from creditbank.errors import ConflictError, NotFoundError
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "CredentialStatusChanged"]


class CredentialStatusChanged(Body):
    status_list: Annotated[int, Field(ge=1, le=2**31 - 1)]
    status_index: Annotated[int, Field(ge=0, le=2**31 - 1)]
    status_purpose: Literal["revocation"] = "revocation"
    #: A reason code: ``source-withdrawn`` (history changed) or ``withdrawn-by-issuer`` (erased).
    reason: Annotated[str, Field(min_length=1, max_length=64)]


def _issued(snapshot: Snapshot, body: CredentialStatusChanged) -> IssuedCredentialRow | None:
    found = snapshot.where(
        IssuedCredentialRow, status_list=body.status_list, status_index=body.status_index
    )
    return found[0] if found else None


def admit(snapshot: Snapshot, body: CredentialStatusChanged, _admission: Admission) -> None:
    check_reason(body.reason)
    issued = _issued(snapshot, body)
    if issued is None:
        raise NotFoundError(f"no credential has bit {body.status_index} of list {body.status_list}")
    if issued.revoked_at is not None:
        raise ConflictError("that credential's status bit is already set")


def project(session: Session, index: int, leaf: Leaf, body: CredentialStatusChanged) -> None:
    row = session.exec(
        select(IssuedCredentialRow)
        .where(IssuedCredentialRow.status_list == body.status_list)
        .where(IssuedCredentialRow.status_index == body.status_index)
    ).first()
    if row is None or row.revoked_index is not None:  # a replay: already applied
        return
    row.revoked_index, row.revoked_at, row.revoked_reason = index, leaf.integrated_at, body.reason
    session.add(row)


KIND = Kind(
    entry_type="credential.status_changed",
    body=CredentialStatusChanged,
    signers=("system",),
    poster=None,
    route=None,
    admit=admit,
    project=project,
)
