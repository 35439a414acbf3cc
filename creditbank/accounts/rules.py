"""What must be true before an entry may be appended.

Each check reads the read models inside the append transaction (the writers' lock is held, so the
state cannot change underneath) and raises a specific error a registrar or provider can act on.
Conversion credits are never computed here: :func:`creditbank.mapping.evaluate` applies the
planner's own rules to the proposed recognitions.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

from creditbank.accounts import schemas as s
from creditbank.accounts.holdings import recognised_in
from creditbank.accounts.names import DEFAULT_TIMEZONE
from creditbank.accounts.tables import (
    ActorKeyRow,
    ActorRow,
    CertificateRow,
    ConversionRow,
    CreditRow,
    LearnerRow,
    MappingRow,
    RecognitionSourceRow,
)
from creditbank.errors import (
    ConflictError,
    EntryFormatError,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
    SignatureError,
)
from creditbank.ledger.entry import SignedEntry, parse_time
from creditbank.mapping import Catalog, Holdings, Mapping, Proposal, evaluate

__all__ = [
    "MAX_BACKDATE_DAYS",
    "check_conversion",
    "check_mapping",
    "check_signer",
    "conversions_using",
    "validate_body",
]

#: How far in the past a conversion's ``as_of`` date may be (decisions are posted promptly).
MAX_BACKDATE_DAYS = 31
_OCCUPATION_CODE = re.compile(r"^[1-8]-\d{2}-\d{2}-\d{2}$")


def check_signer(session: Session, signed: SignedEntry, roles: tuple[str, ...]) -> ActorRow:
    """The signing key must be a current key of the named actor, whose role may sign this type."""
    entry = signed.entry
    actor = session.get(ActorRow, entry.actor)
    if actor is None:
        raise PermissionDenied(f"actor {entry.actor!r} is not registered")
    key = session.get(ActorKeyRow, signed.key_id)
    if key is None or key.actor_id != actor.actor_id or key.public_key != signed.public_key:
        raise SignatureError(
            f"entry is signed with key {signed.key_id}, not a key of {entry.actor}"
        )
    if key.revoked_at is not None:
        raise SignatureError(
            f"key {signed.key_id} of {entry.actor} was revoked at {key.revoked_at}"
        )
    if actor.role not in roles:
        raise PermissionDenied(
            f"{entry.type} must be signed by {' or '.join(roles)}; {entry.actor} is {actor.role}"
        )
    return actor


def _require_new(session: Session, table: type, key: str, what: str) -> None:
    if session.get(table, key) is not None:
        raise ConflictError(f"{what} {key!r} already exists")


def _require_learner(session: Session, learner_id: str) -> LearnerRow:
    learner = session.get(LearnerRow, learner_id)
    if learner is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")
    return learner


def _not_future(day: date, now: datetime, what: str) -> None:
    # Days are the learners' (Asia/Shanghai), as on the read path (issue 9 item 7; h2).
    if day > now.astimezone(DEFAULT_TIMEZONE).date():
        raise RuleViolation(f"{what} {day} is in the future", code="date-in-future")


def _require_unused_holding_id(session: Session, holding_id: str) -> None:
    if session.get(CertificateRow, holding_id) or session.get(CreditRow, holding_id):
        raise ConflictError(f"holding id {holding_id!r} is already used by a certificate or credit")


def validate_body(
    session: Session, signed: SignedEntry, body: s.Body, actor: ActorRow, now: datetime
) -> None:
    """Type-specific rules for everything but conversions (see :mod:`creditbank.accounts.bank`)."""
    parse_time(signed.entry.claimed_at, "claimed_at")
    if isinstance(body, s.ActorRegistered):
        if body.role == "system":
            raise PermissionDenied("only the log's genesis registers the system actor")
        _require_new(session, ActorRow, body.actor_id, "actor")
        if session.exec(
            select(ActorKeyRow).where(ActorKeyRow.public_key == body.public_key)
        ).first():
            raise ConflictError("that public key already belongs to an actor")
    elif isinstance(body, s.ActorKeyAdded):
        if session.get(ActorRow, body.actor_id) is None:
            raise NotFoundError(f"actor {body.actor_id!r} is not registered")
        if session.exec(
            select(ActorKeyRow).where(ActorKeyRow.public_key == body.public_key)
        ).first():
            raise ConflictError("that public key is already registered")
    elif isinstance(body, s.ActorKeyRevoked):
        key = session.get(ActorKeyRow, body.key_id)
        if key is None or key.actor_id != body.actor_id:
            raise NotFoundError(f"actor {body.actor_id!r} has no key {body.key_id}")
        if key.revoked_at is not None:
            raise ConflictError(f"key {body.key_id} is already revoked")
    elif isinstance(body, s.LearnerRegistered):
        _require_new(session, LearnerRow, body.learner_id, "learner")
    elif isinstance(body, s.CertificateIssued):
        _require_learner(session, body.learner_id)
        _require_unused_holding_id(session, body.certificate_id)
        if not _OCCUPATION_CODE.match(body.qualification_code):
            raise EntryFormatError(
                f"qualification_code {body.qualification_code!r} is not an occupation code "
                "of the 2022 classification (like 6-18-02-04)"
            )
        _not_future(body.issued_on, now, "issued_on")
    elif isinstance(body, s.CertificateRevoked):
        cert = session.get(CertificateRow, body.certificate_id)
        if cert is None:
            raise NotFoundError(f"certificate {body.certificate_id!r} does not exist")
        if cert.provider != actor.actor_id:
            raise PermissionDenied(
                f"certificate {body.certificate_id} was issued by {cert.provider}, "
                f"not {actor.actor_id}"
            )
        if cert.revoked_at is not None:
            raise ConflictError(f"certificate {body.certificate_id} is already revoked")
    elif isinstance(body, s.CreditEarned):
        _require_learner(session, body.learner_id)
        _require_unused_holding_id(session, body.credit_id)
        _not_future(body.earned_on, now, "earned_on")
    elif isinstance(body, s.MappingRetired):
        versions = list(
            session.exec(select(MappingRow).where(MappingRow.mapping_id == body.mapping_id))
        )
        if not versions:
            raise NotFoundError(f"mapping {body.mapping_id!r} is not registered")
        if versions[0].provider != actor.actor_id:
            raise PermissionDenied(
                f"mapping {body.mapping_id} belongs to {versions[0].provider}, not {actor.actor_id}"
            )
        if all(v.retired_at is not None for v in versions):
            raise ConflictError(f"mapping {body.mapping_id} is already retired")
    elif isinstance(body, s.ConversionPosted):
        _require_new(session, ConversionRow, body.conversion_id, "conversion")
        _require_learner(session, body.learner_id)
        _not_future(body.as_of, now, "as_of")
        if body.as_of < now.astimezone(DEFAULT_TIMEZONE).date() - timedelta(days=MAX_BACKDATE_DAYS):
            raise RuleViolation(
                f"as_of {body.as_of} is more than {MAX_BACKDATE_DAYS} days in the past",
                code="as-of-too-old",
            )
        courses = [r.course_code for r in body.recognitions]
        if len(set(courses)) != len(courses):
            raise RuleViolation(
                "a conversion lists the same course twice", code="course-already-credited"
            )
    elif isinstance(body, s.ConversionReversed):
        conversion = session.get(ConversionRow, body.conversion_id)
        if conversion is None:
            raise NotFoundError(f"conversion {body.conversion_id!r} does not exist")
        if conversion.reversed_at is not None:
            raise ConflictError(f"conversion {body.conversion_id} is already reversed")


def conversions_using(session: Session, holding_ids: set[str]) -> list[str]:
    """Active conversions with a recognition sourced from any of ``holding_ids``."""
    stmt = (
        select(ConversionRow.conversion_id)
        .join(
            RecognitionSourceRow,
            col(RecognitionSourceRow.conversion_id) == col(ConversionRow.conversion_id),
        )
        .where(col(RecognitionSourceRow.source_id).in_(holding_ids))
        .where(col(ConversionRow.reversed_at).is_(None))
        .distinct()
    )
    return sorted(session.exec(stmt))


def check_mapping(
    session: Session, catalog: Catalog, body: s.MappingRegistered, actor: ActorRow
) -> None:
    """A mapping is registered by the provider it names, once per version, consistently."""
    mapping = Mapping.from_json(body.mapping)
    # A map names its provider by id or by registered name (the shipped CSV uses names).
    if mapping.provider not in (actor.actor_id, actor.name):
        raise PermissionDenied(
            f"mapping {mapping.mapping_id} names provider {mapping.provider}; "
            f"it must be registered by that provider, not {actor.actor_id}"
        )
    if session.get(MappingRow, (mapping.mapping_id, mapping.version)) is not None:
        raise ConflictError(f"mapping {mapping.mapping_id} version {mapping.version} exists")
    other = session.exec(
        select(MappingRow).where(MappingRow.mapping_id == mapping.mapping_id)
    ).first()
    if other is not None and other.provider != actor.actor_id:
        raise PermissionDenied(f"mapping {mapping.mapping_id} belongs to {other.provider}")
    # The catalogue with this mapping must still be consistent (programme, courses, credits).
    catalog.with_mapping(mapping)


def check_conversion(
    session: Session, catalog: Catalog, holdings: Holdings, body: s.ConversionPosted
) -> None:
    """The mapping layer's own rules judge each recognition; the claimed credits must match."""
    granted = evaluate(
        catalog,
        holdings,
        body.programme_code,
        body.as_of,
        [
            Proposal(course_code=c.course_code, mapping_id=c.mapping_id, sources=tuple(c.sources))
            for c in body.recognitions
        ],
        already_recognised=recognised_in(session, body.learner_id, body.programme_code),
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
