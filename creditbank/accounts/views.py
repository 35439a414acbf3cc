"""What learners and registrars read: balances, progress, expiring items.

Every figure carries its provenance (the log index of the entry behind it), and every query can be
asked *as of* a past date: an item counts on date D when the log integrated it on or before D and
had not revoked or reversed it by then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Integer, String, bindparam, cast, literal, null, union_all
from sqlalchemy import literal_column as text_column
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, col, select

from creditbank.accounts.names import DEFAULT_TIMEZONE, NameIndex
from creditbank.accounts.tables import (
    CertificateRow,
    CreditRow,
    LearnerRow,
    RecognitionRow,
)
from creditbank.errors import NotFoundError
from creditbank.ledger.entry import format_time
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
    "day_cutoff",
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
    qualification_name: str | None = None
    #: A source of a recognition still standing (as of the balance's date).
    used: bool = False


@dataclass(frozen=True)
class CreditItem:
    credit_id: str
    institution: str
    course_code: str
    credits: Decimal
    grade: int | None
    earned_on: date
    index: int
    course_title: str | None = None
    used: bool = False


@dataclass(frozen=True)
class RecognitionItem:
    conversion_id: str
    course_code: str
    credits: Decimal
    mapping_id: str
    mode: str
    sources: tuple[str, ...]
    index: int
    course_title: str | None = None


@dataclass(frozen=True)
class ProgrammeBalance:
    programme_code: str
    recognised: Decimal
    items: tuple[RecognitionItem, ...]
    title: str | None = None


@dataclass(frozen=True)
class LearnerBalance:
    learner_id: str
    as_of: date | None
    certificates: tuple[CertificateItem, ...]
    credits_earned: tuple[CreditItem, ...]
    #: Every credit earned (available + used), as before the split.
    banked_credits: Decimal
    programmes: tuple[ProgrammeBalance, ...]
    total_recognised: Decimal
    by_source: dict[str, Decimal] = field(default_factory=dict)
    #: Earned credits no standing conversion has used, and those one has.
    available_credits: Decimal = Decimal(0)
    used_credits: Decimal = Decimal(0)


def day_cutoff(day: date | None, tz: tzinfo) -> str | None:
    """The first log timestamp (RFC 3339 UTC text) *after* ``day`` ends in ``tz``.

    Log timestamps are UTC; a learner's day is a day of the configured time zone. Comparing the
    fixed-width text is comparing instants, so the cut-off is computed once, not per row.
    """
    if day is None:
        return None
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return format_time(end)


def _counts(stamp: str | None, cutoff: str | None) -> bool:
    """Whether a log timestamp falls before the cut-off (None: no cut-off, always)."""
    return stamp is not None and (cutoff is None or stamp < cutoff)


def _require_learner(session: Session, learner_id: str) -> None:
    if session.get(LearnerRow, learner_id) is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")


def _columns(model: type[SQLModel]) -> Any:
    """The Core columns of a table model (``.c``), for queries the ORM's typing cannot spell."""
    return model.__table__.c  # type: ignore[attr-defined]


@cache
def _balance_query() -> Any:
    """One query for a balance: a UNION ALL of the learner, certificates, credits, recognitions
    over one column layout (kind, id, code, who, number, day, index, time, until, amount,
    mapping, mode, sources); ``kind`` tells the rows apart."""
    text, number = String(), Integer()
    wanted = bindparam("learner_id", type_=String())

    def nulls(*types: Any) -> list[Any]:
        return [cast(null(), t) for t in types]

    names = ("id", "code", "who", "num", "day", "idx", "at", "until", "amount", "mapping", "mode")
    learner = core_select(
        literal("0", text).label("kind"),
        _columns(LearnerRow).learner_id.label("id"),
        *(
            cast(null(), number if name in ("num", "idx") else text).label(name)
            for name in names[1:]
        ),
        cast(null(), text).label("sources"),
    ).where(_columns(LearnerRow).learner_id == wanted)
    cert = _columns(CertificateRow)
    certificates = core_select(
        literal("1", text),
        cert.certificate_id,
        cert.qualification_code,
        cert.provider,
        cert.level,
        cert.issued_on,
        cert.issued_index,
        cert.recorded_at,
        cert.revoked_at,
        *nulls(text, text, text, text),
    ).where(cert.learner_id == wanted)
    credit = _columns(CreditRow)
    credits = core_select(
        literal("2", text),
        credit.credit_id,
        credit.course_code,
        credit.institution,
        credit.grade,
        credit.earned_on,
        credit.earned_index,
        credit.recorded_at,
        cast(null(), text),
        credit.credits,
        *nulls(text, text, text),
    ).where(credit.learner_id == wanted)
    rec = _columns(RecognitionRow)
    recognitions = core_select(
        literal("3", text),
        rec.conversion_id,
        rec.course_code,
        rec.programme_code,
        cast(null(), number),
        cast(null(), text),
        rec.posted_index,
        rec.posted_at,
        rec.reversed_at,
        rec.credits,
        rec.mapping_id,
        rec.mode,
        rec.sources,
    ).where(rec.learner_id == wanted)
    query = union_all(learner, certificates, credits, recognitions)
    return core_select(query.subquery()).order_by(text_column("1"), text_column("7"))


def _balance_rows(db: Session | Connection, learner_id: str) -> list[tuple[Any, ...]]:
    """Run the (once built) balance query for one learner."""
    return [tuple(row) for row in db.execute(_balance_query(), {"learner_id": learner_id})]


def learner_balance(
    db: Session | Connection,
    learner_id: str,
    as_of: date | None = None,
    *,
    tz: tzinfo = DEFAULT_TIMEZONE,
    names: NameIndex | None = None,
) -> LearnerBalance:
    """Banked and recognised credits, by programme and by source, each with its ledger index.

    One SQL query, on a session or a bare connection (the API's read path skips the ORM);
    ``as_of`` counts whole days of ``tz``; ``names`` puts occupation names and course titles
    beside the codes.
    """
    rows = _balance_rows(db, learner_id)
    if not rows or rows[0][0] != "0":
        raise NotFoundError(f"learner {learner_id!r} is not registered")
    names = names or NameIndex()
    cutoff = day_cutoff(as_of, tz)
    by_programme: dict[str, list[RecognitionItem]] = {}
    by_source: dict[str, Decimal] = {}
    used: set[str] = set()
    for kind, ident, code, who, _n, _d, index, at, until, amount, mapping, mode, sources in rows:
        if kind != "3" or not _counts(at, cutoff) or _counts(until, cutoff):
            continue
        item = RecognitionItem(
            conversion_id=ident,
            course_code=code,
            credits=Decimal(amount),
            mapping_id=mapping,
            mode=mode,
            sources=tuple(sources.split()),
            index=index,
            course_title=names.course(code),
        )
        by_programme.setdefault(who, []).append(item)
        used.update(item.sources)
        for source in item.sources:
            by_source[source] = by_source.get(source, Decimal(0)) + item.credits / len(item.sources)
    certificates = tuple(
        CertificateItem(
            certificate_id=ident,
            qualification_code=code,
            level=number,
            issued_on=date.fromisoformat(day),
            provider=who,
            index=index,
            revoked=_counts(until, cutoff),
            qualification_name=names.qualification(code),
            used=ident in used,
        )
        for kind, ident, code, who, number, day, index, at, until, *_ in rows
        if kind == "1" and _counts(at, cutoff)
    )
    credits = tuple(
        CreditItem(
            credit_id=ident,
            institution=who,
            course_code=code,
            credits=Decimal(amount),
            grade=number,
            earned_on=date.fromisoformat(day),
            index=index,
            course_title=names.course(code, who),
            used=ident in used,
        )
        for kind, ident, code, who, number, day, index, at, _u, amount, *_ in rows
        if kind == "2" and _counts(at, cutoff)
    )
    programmes = tuple(
        ProgrammeBalance(
            code,
            sum((i.credits for i in items), Decimal(0)),
            tuple(sorted(items, key=lambda i: (i.index, i.course_code))),
            names.programme(code),
        )
        for code, items in sorted(by_programme.items())
    )
    banked = sum((c.credits for c in credits), Decimal(0))
    spent = sum((c.credits for c in credits if c.used), Decimal(0))
    return LearnerBalance(
        learner_id=learner_id,
        as_of=as_of,
        certificates=certificates,
        credits_earned=credits,
        banked_credits=banked,
        programmes=programmes,
        total_recognised=sum((p.recognised for p in programmes), Decimal(0)),
        by_source=by_source,
        available_credits=banked - spent,
        used_credits=spent,
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
