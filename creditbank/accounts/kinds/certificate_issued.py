"""``certificate.issued``: a provider deposits a vocational certificate it issued to a learner."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.common import not_future, require_learner, require_unused_holding_id
from creditbank.accounts.kinds.fields import Body, Day, Identifier, Level
from creditbank.accounts.staged_rows import insert_row
from creditbank.accounts.tables import CertificateRow, CreditRow, LearnerRow
from creditbank.errors import EntryFormatError
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "CertificateIssued"]

_OCCUPATION_CODE = re.compile(r"[1-8]-[0-9]{2}-[0-9]{2}-[0-9]{2}")


class CertificateIssued(Body):
    certificate_id: Identifier
    learner_id: Identifier
    qualification_code: Annotated[str, Field(min_length=1, max_length=64)]
    level: Level
    issued_on: Day


def admit(snapshot: Snapshot, body: CertificateIssued, admission: Admission) -> None:
    require_learner(snapshot, body.learner_id)
    require_unused_holding_id(snapshot, body.certificate_id)
    if not _OCCUPATION_CODE.fullmatch(body.qualification_code):
        raise EntryFormatError(
            f"qualification_code {body.qualification_code!r} is not an occupation code "
            "of the 2022 classification (like 6-18-02-04)"
        )
    not_future(body.issued_on, admission.today, "issued_on")


def project(session: Session, index: int, leaf: Leaf, body: CertificateIssued) -> None:
    insert_row(
        session,
        CertificateRow,
        certificate_id=body.certificate_id,
        learner_id=body.learner_id,
        provider=leaf.entry.actor,
        qualification_code=body.qualification_code,
        level=body.level,
        issued_on=body.issued_on.isoformat(),
        issued_index=index,
        recorded_at=leaf.integrated_at,
    )


def learner_of(_snapshot: Snapshot, body: CertificateIssued) -> str:
    return body.learner_id


def rows(body: CertificateIssued) -> list[RowKey]:
    return [
        (LearnerRow, body.learner_id),
        (CertificateRow, body.certificate_id),
        (CreditRow, body.certificate_id),
    ]


KIND = Kind(
    entry_type="certificate.issued",
    body=CertificateIssued,
    signers=("provider",),
    poster="provider",
    route="/v1/certificates",
    admit=admit,
    project=project,
    rows=rows,
    learner_of=learner_of,
)
