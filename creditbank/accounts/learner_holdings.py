"""A learner's holdings as the mapping layer sees them, read from the read models.

Certificates that are not revoked, earned course credits, and the courses other conversions have
already recognised (so that a recognised course can itself be a credit-recognition source, which is
what makes revocation cascades run several levels deep). A recognised course carries no grade of its
own: it is offered with grade 0, so a mapping that demands a minimum grade refuses it rather than
trusting a grade nobody recorded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from creditbank.accounts.tables import CertificateRow, ConversionRow, CreditRow, RecognitionRow
from creditbank.mapping import (
    CertificateHolding,
    CreditHolding,
    Holdings,
    Mode,
    PostedRecognition,
    Programme,
)

__all__ = ["learner_holdings", "recognised_holding_id", "recognised_in"]


def recognised_holding_id(conversion_id: str, course_code: str) -> str:
    return f"{conversion_id}/{course_code}"


def learner_holdings(
    session: Session,
    learner_id: str,
    programmes: dict[str, Programme],
    *,
    exclude_programme: str | None = None,
) -> Holdings:
    certificates = tuple(
        CertificateHolding(
            holding_id=row.certificate_id,
            qualification_code=row.qualification_code,
            level=row.level,
            issued_on=date.fromisoformat(row.issued_on),
        )
        for row in session.exec(
            select(CertificateRow)
            .where(CertificateRow.learner_id == learner_id)
            .where(col(CertificateRow.revoked_at).is_(None))
            .order_by(col(CertificateRow.certificate_id))
        )
    )
    credits = [
        CreditHolding(
            holding_id=row.credit_id,
            institution=row.institution,
            course_code=row.course_code,
            credits=Decimal(row.credits),
            grade=Decimal(row.grade if row.grade is not None else 0),
            earned_on=date.fromisoformat(row.earned_on),
        )
        for row in session.exec(
            select(CreditRow)
            .where(CreditRow.learner_id == learner_id)
            .order_by(col(CreditRow.credit_id))
        )
    ]
    recognised = session.exec(
        select(RecognitionRow, ConversionRow)
        .join(ConversionRow, col(ConversionRow.conversion_id) == col(RecognitionRow.conversion_id))
        .where(RecognitionRow.learner_id == learner_id)
        .where(col(RecognitionRow.reversed_at).is_(None))
        .order_by(col(RecognitionRow.conversion_id), col(RecognitionRow.course_code))
    )
    for rec, conversion in recognised:
        programme = programmes.get(rec.programme_code)
        if programme is None or rec.programme_code == exclude_programme:
            continue
        credits.append(
            CreditHolding(
                holding_id=recognised_holding_id(rec.conversion_id, rec.course_code),
                institution=programme.institution,
                course_code=rec.course_code,
                credits=Decimal(rec.credits),
                grade=Decimal(0),
                earned_on=date.fromisoformat(conversion.as_of),
            )
        )
    return Holdings(certificates=certificates, credits=tuple(credits))


def recognised_in(
    session: Session, learner_id: str, programme_code: str
) -> list[PostedRecognition]:
    """Active recognitions of a learner in a programme, as the mapping rules take them."""
    rows = session.exec(
        select(RecognitionRow)
        .where(RecognitionRow.learner_id == learner_id)
        .where(RecognitionRow.programme_code == programme_code)
        .where(col(RecognitionRow.reversed_at).is_(None))
        .order_by(col(RecognitionRow.posted_index), col(RecognitionRow.course_code))
    )
    return [
        PostedRecognition(
            course_code=row.course_code,
            credits=Decimal(row.credits),
            source_holding_ids=tuple(row.sources.split()),
            mapping_id=row.mapping_id,
            mode=Mode(row.mode) if row.mode in Mode._value2member_map_ else None,
        )
        for row in rows
    ]
