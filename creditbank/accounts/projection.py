"""Apply one log entry to the read models.

These functions are the *only* writers of the projection tables, and they read nothing but the
entry itself and rows earlier entries wrote, so replaying the log from index 0 (``rebuild``)
reproduces the live read models exactly. Validation is not here: it happens before an entry is
appended (:mod:`creditbank.accounts.rules`); by the time an entry is in the log it is a fact.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal

from sqlmodel import Session, col, select

from creditbank.accounts import schemas as s
from creditbank.accounts.tables import (
    ActorKeyRow,
    ActorRow,
    CertificateRow,
    ConversionRow,
    CreditRow,
    LearnerRow,
    MappingRow,
    ProjectionStateRow,
    RecognitionRow,
    RecognitionSourceRow,
)
from creditbank.errors import StorageError
from creditbank.ledger.entry import Leaf, key_id_of
from creditbank.mapping import Mapping

__all__ = ["apply_entry"]


def apply_entry(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    """Project the entry at ``index`` into the read models (inside the caller's transaction)."""
    handler = _HANDLERS[type(body)]
    handler(session, index, leaf, body)
    state = session.get(ProjectionStateRow, 1)
    if state is None:
        state = ProjectionStateRow(id=1, applied_size=0)
    if state.applied_size != index:
        raise StorageError(
            f"read models have applied {state.applied_size} entries but entry {index} arrived; "
            "run `creditbank rebuild`"
        )
    state.applied_size = index + 1
    session.add(state)


def _actor_registered(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.ActorRegistered)
    session.add(
        ActorRow(
            actor_id=body.actor_id,
            role=body.role,
            name=body.name,
            registered_index=index,
            registered_at=leaf.integrated_at,
        )
    )
    session.add(_key_row(body.actor_id, body.public_key, index, leaf))


def _key_row(actor_id: str, public_key: str, index: int, leaf: Leaf) -> ActorKeyRow:
    return ActorKeyRow(
        key_id=key_id_of(public_key),
        actor_id=actor_id,
        public_key=public_key,
        added_index=index,
        added_at=leaf.integrated_at,
    )


def _key_added(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.ActorKeyAdded)
    session.add(_key_row(body.actor_id, body.public_key, index, leaf))


def _key_revoked(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.ActorKeyRevoked)
    row = session.get(ActorKeyRow, body.key_id)
    if row is not None:
        row.revoked_index, row.revoked_at = index, leaf.integrated_at
        session.add(row)


def _learner_registered(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.LearnerRegistered)
    session.add(
        LearnerRow(
            learner_id=body.learner_id,
            commitment=body.commitment,
            registered_by=leaf.entry.actor,
            registered_index=index,
            registered_at=leaf.integrated_at,
        )
    )


def _certificate_issued(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.CertificateIssued)
    session.add(
        CertificateRow(
            certificate_id=body.certificate_id,
            learner_id=body.learner_id,
            provider=leaf.entry.actor,
            qualification_code=body.qualification_code,
            level=body.level,
            issued_on=body.issued_on.isoformat(),
            issued_index=index,
            recorded_at=leaf.integrated_at,
        )
    )


def _certificate_revoked(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.CertificateRevoked)
    row = session.get(CertificateRow, body.certificate_id)
    if row is not None:
        row.revoked_index, row.revoked_at, row.revoke_reason = (
            index,
            leaf.integrated_at,
            body.reason,
        )
        session.add(row)


def _credit_earned(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.CreditEarned)
    session.add(
        CreditRow(
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
    )


def _mapping_registered(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.MappingRegistered)
    mapping = Mapping.from_json(body.mapping)
    session.add(
        MappingRow(
            mapping_id=mapping.mapping_id,
            version=mapping.version,
            provider=leaf.entry.actor,
            mode=str(mapping.mode),
            mapping_json=json.dumps(body.mapping, sort_keys=True, ensure_ascii=False),
            registered_index=index,
            registered_at=leaf.integrated_at,
        )
    )


def _mapping_retired(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.MappingRetired)
    rows = session.exec(
        select(MappingRow)
        .where(MappingRow.mapping_id == body.mapping_id)
        .where(col(MappingRow.retired_at).is_(None))
    )
    for row in rows:
        row.retired_index, row.retired_at = index, leaf.integrated_at
        session.add(row)


def _conversion_posted(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.ConversionPosted)
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


def _conversion_reversed(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    assert isinstance(body, s.ConversionReversed)
    row = session.get(ConversionRow, body.conversion_id)
    if row is None:
        return
    row.reversed_index, row.reversed_at, row.reverse_reason = index, leaf.integrated_at, body.reason
    session.add(row)
    for rec in session.exec(
        select(RecognitionRow).where(RecognitionRow.conversion_id == body.conversion_id)
    ):
        rec.reversed_index, rec.reversed_at = index, leaf.integrated_at
        session.add(rec)


def _index_root(session: Session, index: int, leaf: Leaf, body: s.Body) -> None:
    """The learner index lives in the log (and in memory), not in a read model."""


_HANDLERS: dict[type[s.Body], Callable[[Session, int, Leaf, s.Body], None]] = {
    s.LearnerIndexRoot: _index_root,
    s.ActorRegistered: _actor_registered,
    s.ActorKeyAdded: _key_added,
    s.ActorKeyRevoked: _key_revoked,
    s.LearnerRegistered: _learner_registered,
    s.CertificateIssued: _certificate_issued,
    s.CertificateRevoked: _certificate_revoked,
    s.CreditEarned: _credit_earned,
    s.MappingRegistered: _mapping_registered,
    s.MappingRetired: _mapping_retired,
    s.ConversionPosted: _conversion_posted,
    s.ConversionReversed: _conversion_reversed,
}
