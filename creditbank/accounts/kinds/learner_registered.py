"""``learner.registered``: a registrar registers a learner (a random id and a salted commitment).

The identity (name, ID number, salt) travels beside the entry and is kept off the log, in the
erasable ``learner_identities`` table; admission checks the commitment is made from it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.identity import matches
from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.fields import Body, Identifier
from creditbank.accounts.staged_rows import insert_row
from creditbank.accounts.tables import LearnerRow
from creditbank.errors import ConflictError, InputError, RuleViolation
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "LearnerRegistered"]


class LearnerRegistered(Body):
    learner_id: Identifier
    #: hex SHA-256 of salt || canonical identity; the salt lives off the log, in an erasable row.
    commitment: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def admit(snapshot: Snapshot, body: LearnerRegistered, admission: Admission) -> None:
    if snapshot.get(LearnerRow, body.learner_id) is not None:
        raise ConflictError(f"learner {body.learner_id!r} already exists")
    if admission.identity is None:
        raise InputError("registering a learner needs their identity (name, ID number, salt)")
    if not matches(admission.identity, body.commitment):
        raise RuleViolation(
            "the commitment does not match the identity given", code="commitment-mismatch"
        )


def project(session: Session, index: int, leaf: Leaf, body: LearnerRegistered) -> None:
    insert_row(
        session,
        LearnerRow,
        learner_id=body.learner_id,
        commitment=body.commitment,
        registered_by=leaf.entry.actor,
        registered_index=index,
        registered_at=leaf.integrated_at,
    )


def learner_of(_snapshot: Snapshot, body: LearnerRegistered) -> str:
    return body.learner_id


def rows(body: LearnerRegistered) -> list[RowKey]:
    return [(LearnerRow, body.learner_id)]


KIND = Kind(
    entry_type="learner.registered",
    body=LearnerRegistered,
    signers=("registrar",),
    poster="registrar",
    route="/v1/learners",
    admit=admit,
    project=project,
    rows=rows,
    learner_of=learner_of,
    carries_identity=True,
)
