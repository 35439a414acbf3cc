"""``credit.earned``: a registrar records course credits a learner earned at its institution.

Only a registrar of the credit's ``institution`` may record it: a registrar of one institution
cannot deposit credits in another's name (which a conversion elsewhere could then recognise).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictInt
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.common import not_future, require_learner, require_unused_holding_id
from creditbank.accounts.kinds.fields import Body, Credits, Day, Identifier
from creditbank.accounts.kinds.institutions import InstitutionCode, require_own_institution
from creditbank.accounts.staged_rows import insert_row
from creditbank.accounts.tables import CertificateRow, CreditRow, LearnerRow
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "CreditEarned"]


class CreditEarned(Body):
    credit_id: Identifier
    learner_id: Identifier
    #: Institution code as the qualification map writes it (e.g. SSPU, SOU).
    institution: InstitutionCode
    course_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
    credits: Credits
    #: Percentage grade (百分制), 0-100, a JSON integer.
    grade: Annotated[StrictInt, Field(ge=0, le=100)]
    earned_on: Day


def admit(snapshot: Snapshot, body: CreditEarned, admission: Admission) -> None:
    require_own_institution(admission, body.institution, f"credits of {body.institution}")
    require_learner(snapshot, body.learner_id)
    require_unused_holding_id(snapshot, body.credit_id)
    not_future(body.earned_on, admission.today, "earned_on")


def project(session: Session, index: int, leaf: Leaf, body: CreditEarned) -> None:
    insert_row(
        session,
        CreditRow,
        credit_id=body.credit_id,
        learner_id=body.learner_id,
        registrar=leaf.entry.actor,
        institution=body.institution,
        course_code=body.course_code,
        credits=body.credits,
        grade=body.grade,
        earned_on=body.earned_on.isoformat(),
        earned_index=index,
        recorded_at=leaf.integrated_at,
    )


def learner_of(_snapshot: Snapshot, body: CreditEarned) -> str:
    return body.learner_id


def rows(body: CreditEarned) -> list[RowKey]:
    return [
        (LearnerRow, body.learner_id),
        (CertificateRow, body.credit_id),
        (CreditRow, body.credit_id),
    ]


KIND = Kind(
    entry_type="credit.earned",
    body=CreditEarned,
    signers=("registrar",),
    poster="registrar",
    route="/v1/credits",
    admit=admit,
    project=project,
    rows=rows,
    learner_of=learner_of,
)
