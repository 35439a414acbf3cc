"""``conversion.posted``: a registrar recognises courses for a learner toward a programme.

Credits are never computed here: :func:`creditbank.mapping.evaluate` applies the planner's own rules
to the proposed recognitions, so the planner and the validator can never disagree.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.common import not_future, require_learner
from creditbank.accounts.kinds.fields import Body, Credits, Day, Identifier, SourceId
from creditbank.accounts.kinds.institutions import require_own_institution
from creditbank.accounts.tables import (
    ConversionRow,
    LearnerRow,
    MappingRow,
    RecognitionRow,
    RecognitionSourceRow,
)
from creditbank.errors import ConflictError, RuleViolation
from creditbank.ledger.entry import Leaf
from creditbank.mapping import Proposal, evaluate

__all__ = ["KIND", "MAX_BACKDATE_DAYS", "ConversionPosted", "RecognitionClaim"]

#: How far in the past a conversion's ``as_of`` date may be (decisions are posted promptly).
MAX_BACKDATE_DAYS = 31


class RecognitionClaim(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    course_code: Annotated[str, Field(min_length=1, max_length=64)]
    credits: Credits
    mapping_id: Identifier
    sources: Annotated[list[SourceId], Field(min_length=1, max_length=8)]


class ConversionPosted(Body):
    conversion_id: Identifier
    learner_id: Identifier
    programme_code: Annotated[str, Field(min_length=1, max_length=64)]
    as_of: Day
    recognitions: Annotated[list[RecognitionClaim], Field(min_length=1, max_length=200)]


def admit(snapshot: Snapshot, body: ConversionPosted, admission: Admission) -> None:
    if snapshot.get(ConversionRow, body.conversion_id) is not None:
        raise ConflictError(f"conversion {body.conversion_id!r} already exists")
    catalog = snapshot.catalog_on(body.as_of)
    require_own_institution(
        admission,
        catalog.programme(body.programme_code).institution,
        f"conversions into {body.programme_code}",
    )
    require_learner(snapshot, body.learner_id)
    not_future(body.as_of, admission.today, "as_of")
    if body.as_of < admission.today - timedelta(days=MAX_BACKDATE_DAYS):
        raise RuleViolation(
            f"as_of {body.as_of} is more than {MAX_BACKDATE_DAYS} days in the past",
            code="as-of-too-old",
        )
    courses = [r.course_code for r in body.recognitions]
    if len(set(courses)) != len(courses):
        raise RuleViolation(
            "a conversion lists the same course twice", code="course-already-credited"
        )
    granted = evaluate(
        catalog,
        snapshot.holdings(body.learner_id, exclude_programme=body.programme_code),
        body.programme_code,
        body.as_of,
        [
            Proposal(course_code=c.course_code, mapping_id=c.mapping_id, sources=tuple(c.sources))
            for c in body.recognitions
        ],
        already_recognised=snapshot.recognised_in(body.learner_id, body.programme_code),
    )
    by_course = {g.course_code: g for g in granted}
    for claim in body.recognitions:
        rule = by_course.get(claim.course_code)
        if rule is None or rule.credits != Decimal(claim.credits):
            expected = "no credit" if rule is None else f"{rule.credits} credits"
            raise RuleViolation(
                f"course {claim.course_code}: the conversion claims {claim.credits} credits "
                f"but the rules give {expected}",
                code="credits-mismatch",
            )


def project(session: Session, index: int, leaf: Leaf, body: ConversionPosted) -> None:
    total = sum((Decimal(r.credits) for r in body.recognitions), Decimal(0))
    session.add(
        ConversionRow(
            conversion_id=body.conversion_id,
            learner_id=body.learner_id,
            programme_code=body.programme_code,
            registrar=leaf.entry.actor,
            as_of=body.as_of.isoformat(),
            credits=str(total),
            posted_index=index,
            posted_at=leaf.integrated_at,
        )
    )
    modes = {
        row.mapping_id: row.mode
        for row in session.exec(
            select(MappingRow).where(
                col(MappingRow.mapping_id).in_({r.mapping_id for r in body.recognitions})
            )
        )
    }
    for claim in body.recognitions:
        session.add(
            RecognitionRow(
                conversion_id=body.conversion_id,
                course_code=claim.course_code,
                learner_id=body.learner_id,
                programme_code=body.programme_code,
                credits=claim.credits,
                mapping_id=claim.mapping_id,
                mode=modes.get(claim.mapping_id, "unknown"),
                sources=" ".join(claim.sources),
                posted_index=index,
                posted_at=leaf.integrated_at,
            )
        )
        for source in dict.fromkeys(claim.sources):
            session.add(
                RecognitionSourceRow(
                    source_id=source,
                    conversion_id=body.conversion_id,
                    course_code=claim.course_code,
                )
            )


def learner_of(_snapshot: Snapshot, body: ConversionPosted) -> str:
    return body.learner_id


def rows(body: ConversionPosted) -> list[RowKey]:
    return [(ConversionRow, body.conversion_id), (LearnerRow, body.learner_id)]


KIND = Kind(
    entry_type="conversion.posted",
    body=ConversionPosted,
    # "system" re-posts what a revocation left standing (accounts/cascade.py)
    signers=("registrar", "system"),
    poster="registrar",
    route="/v1/conversions",
    admit=admit,
    project=project,
    rows=rows,
    learner_of=learner_of,
)
