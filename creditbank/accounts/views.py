"""What learners and registrars read: balances, progress, expiring items.

Every figure carries its provenance (the log index of the entry behind it), and every query can be
asked *as of* a past date: an item counts on date D when the log integrated it on or before D and
had not revoked or reversed it by then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from creditbank.accounts.tables import (
    CertificateRow,
    CreditRow,
    LearnerRow,
    RecognitionRow,
)
from creditbank.errors import NotFoundError
from creditbank.mapping import Catalog, Holdings, Plan, PostedRecognition, plan
from creditbank.mapping.rules import add_years

__all__ = [
    "CertificateItem",
    "CreditItem",
    "ExpiringItem",
    "LearnerBalance",
    "ProgrammeBalance",
    "Progress",
    "RecognitionItem",
    "expiring_soon",
    "learner_balance",
    "progress_toward",
]


@dataclass(frozen=True)
class CertificateItem:
    certificate_id: str
    qualification_code: str
    level: int
    issued_on: date
    provider: str
    index: int
    revoked: bool


@dataclass(frozen=True)
class CreditItem:
    credit_id: str
    institution: str
    course_code: str
    credits: Decimal
    grade: int | None
    earned_on: date
    index: int


@dataclass(frozen=True)
class RecognitionItem:
    conversion_id: str
    course_code: str
    credits: Decimal
    mapping_id: str
    mode: str
    sources: tuple[str, ...]
    index: int


@dataclass(frozen=True)
class ProgrammeBalance:
    programme_code: str
    recognised: Decimal
    items: tuple[RecognitionItem, ...]


@dataclass(frozen=True)
class LearnerBalance:
    learner_id: str
    as_of: date | None
    certificates: tuple[CertificateItem, ...]
    credits_earned: tuple[CreditItem, ...]
    banked_credits: Decimal
    programmes: tuple[ProgrammeBalance, ...]
    total_recognised: Decimal
    by_source: dict[str, Decimal] = field(default_factory=dict)


def _on_or_before(stamp: str | None, day: date | None) -> bool:
    """Whether a log timestamp (RFC 3339 UTC) falls on or before ``day`` (None: always)."""
    return stamp is not None and (day is None or stamp[:10] <= day.isoformat())


def _require_learner(session: Session, learner_id: str) -> None:
    if session.get(LearnerRow, learner_id) is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")


def learner_balance(session: Session, learner_id: str, as_of: date | None = None) -> LearnerBalance:
    """Banked and recognised credits, by programme and by source, each with its ledger index."""
    _require_learner(session, learner_id)
    certificates = tuple(
        CertificateItem(
            certificate_id=row.certificate_id,
            qualification_code=row.qualification_code,
            level=row.level,
            issued_on=date.fromisoformat(row.issued_on),
            provider=row.provider,
            index=row.issued_index,
            revoked=_on_or_before(row.revoked_at, as_of),
        )
        for row in session.exec(
            select(CertificateRow)
            .where(CertificateRow.learner_id == learner_id)
            .order_by(col(CertificateRow.issued_index))
        )
        if _on_or_before(row.recorded_at, as_of)
    )
    credits = tuple(
        CreditItem(
            credit_id=row.credit_id,
            institution=row.institution,
            course_code=row.course_code,
            credits=Decimal(row.credits),
            grade=row.grade,
            earned_on=date.fromisoformat(row.earned_on),
            index=row.earned_index,
        )
        for row in session.exec(
            select(CreditRow)
            .where(CreditRow.learner_id == learner_id)
            .order_by(col(CreditRow.earned_index))
        )
        if _on_or_before(row.recorded_at, as_of)
    )
    by_programme: dict[str, list[RecognitionItem]] = {}
    by_source: dict[str, Decimal] = {}
    for rec in session.exec(
        select(RecognitionRow)
        .where(RecognitionRow.learner_id == learner_id)
        .order_by(col(RecognitionRow.posted_index), col(RecognitionRow.course_code))
    ):
        if not _on_or_before(rec.posted_at, as_of) or _on_or_before(rec.reversed_at, as_of):
            continue
        item = RecognitionItem(
            conversion_id=rec.conversion_id,
            course_code=rec.course_code,
            credits=Decimal(rec.credits),
            mapping_id=rec.mapping_id,
            mode=rec.mode,
            sources=tuple(rec.sources.split()),
            index=rec.posted_index,
        )
        by_programme.setdefault(rec.programme_code, []).append(item)
        for source in item.sources:
            by_source[source] = by_source.get(source, Decimal(0)) + item.credits / len(item.sources)
    programmes = tuple(
        ProgrammeBalance(code, sum((i.credits for i in items), Decimal(0)), tuple(items))
        for code, items in sorted(by_programme.items())
    )
    return LearnerBalance(
        learner_id=learner_id,
        as_of=as_of,
        certificates=certificates,
        credits_earned=credits,
        banked_credits=sum((c.credits for c in credits), Decimal(0)),
        programmes=programmes,
        total_recognised=sum((p.recognised for p in programmes), Decimal(0)),
        by_source=by_source,
    )


@dataclass(frozen=True)
class Progress:
    learner_id: str
    programme_code: str
    total_credits: Decimal
    recognised: Decimal
    recognised_courses: tuple[RecognitionItem, ...]
    missing_courses: tuple[tuple[str, Decimal], ...]
    #: What the planner could still recognise today from what the learner holds.
    plan: Plan


def progress_toward(
    session: Session,
    catalog: Catalog,
    holdings: Holdings,
    already: list[PostedRecognition],
    learner_id: str,
    programme_code: str,
    as_of: date,
) -> Progress:
    programme = catalog.programme(programme_code)
    balance = learner_balance(session, learner_id)
    items = next((p.items for p in balance.programmes if p.programme_code == programme_code), ())
    done = {item.course_code for item in items}
    result = plan(catalog, holdings, programme_code, as_of, already_recognised=already)
    return Progress(
        learner_id=learner_id,
        programme_code=programme_code,
        total_credits=programme.total_credits,
        recognised=sum((i.credits for i in items), Decimal(0)),
        recognised_courses=items,
        missing_courses=tuple(
            (course.course_code, course.credits)
            for course in programme.courses
            if course.course_code not in done
        ),
        plan=result,
    )


@dataclass(frozen=True)
class ExpiringItem:
    kind: str  # "certificate" or "mapping"
    id: str
    lapses_on: date
    detail: str


def expiring_soon(
    session: Session, catalog: Catalog, holdings: Holdings, learner_id: str, today: date, days: int
) -> list[ExpiringItem]:
    """Certificates and mappings this learner could use that lapse within ``days``, unused."""
    _require_learner(session, learner_id)
    horizon = today + timedelta(days=days)
    used = {
        source
        for rec in session.exec(
            select(RecognitionRow)
            .where(RecognitionRow.learner_id == learner_id)
            .where(col(RecognitionRow.reversed_at).is_(None))
        )
        for source in rec.sources.split()
    }
    found: dict[tuple[str, str], ExpiringItem] = {}
    for cert in holdings.certificates:
        if cert.holding_id in used or cert.issued_on is None:
            continue
        for mapping in catalog.mappings:
            codes = {q.code for q in mapping.qualification_requirements}
            if cert.qualification_code not in codes:
                continue
            if mapping.valid_years is not None:
                lapses = add_years(cert.issued_on, mapping.valid_years)
                if today <= lapses <= horizon:
                    key = ("certificate", cert.holding_id)
                    if key not in found or lapses < found[key].lapses_on:
                        found[key] = ExpiringItem(
                            "certificate",
                            cert.holding_id,
                            lapses,
                            f"stops counting for mapping {mapping.mapping_id} "
                            f"({mapping.programme_code}) on {lapses}",
                        )
            if mapping.effective_to is not None and today <= mapping.effective_to <= horizon:
                found.setdefault(
                    ("mapping", mapping.mapping_id),
                    ExpiringItem(
                        "mapping",
                        mapping.mapping_id,
                        mapping.effective_to,
                        f"mapping for {cert.qualification_code} into {mapping.programme_code} "
                        f"ends on {mapping.effective_to}",
                    ),
                )
    return sorted(found.values(), key=lambda item: (item.lapses_on, item.kind, item.id))
