"""``actor.registered``: an admin registers an actor (provider, registrar, admin, institution) and
its key.

An institution's ``actor_id`` is its code (``SOU``), the code programmes and mappings use. A
registrar names the registered institution it belongs to in ``institution``; the other roles name
none. (Registrars registered before institutions existed carry none; see
:mod:`creditbank.accounts.kinds.institutions`.)
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.common import key_in_use
from creditbank.accounts.kinds.fields import Body, Identifier, PublicKey
from creditbank.accounts.kinds.institutions import (
    INSTITUTION_ROLE,
    InstitutionCode,
    is_institution_code,
    require_institution_actor,
)
from creditbank.accounts.tables import ActorKeyRow, ActorRow
from creditbank.errors import ConflictError, EntryFormatError, PermissionDenied
from creditbank.ledger.entry import Leaf, key_id_of

__all__ = ["KIND", "ActorRegistered", "key_row"]


class ActorRegistered(Body):
    actor_id: Identifier
    role: Literal["system", "admin", "provider", "registrar", "institution"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    public_key: PublicKey
    #: The registrar's institution (required for a registrar, absent for every other role).
    institution: InstitutionCode | None = None


def admit(snapshot: Snapshot, body: ActorRegistered, _admission: Admission) -> None:
    if body.role == "system":
        raise PermissionDenied("only the log's genesis registers the system actor")
    if snapshot.get(ActorRow, body.actor_id) is not None:
        raise ConflictError(f"actor {body.actor_id!r} already exists")
    if key_in_use(snapshot, body.public_key):
        raise ConflictError("that public key already belongs to an actor")
    _check_institution(snapshot, body)


def _check_institution(snapshot: Snapshot, body: ActorRegistered) -> None:
    if body.role == INSTITUTION_ROLE and not is_institution_code(body.actor_id):
        raise EntryFormatError(
            "body.actor_id: an institution's id is its code, 2-16 of A-Z and 0-9 (e.g. SOU)"
        )
    if body.role == "registrar":
        if body.institution is None:
            raise EntryFormatError("body.institution: a registrar names its institution")
        require_institution_actor(snapshot, body.institution)
    elif body.institution is not None:
        raise EntryFormatError(f"body.institution: only a registrar names one, not a {body.role}")


def key_row(actor_id: str, public_key: str, index: int, leaf: Leaf) -> ActorKeyRow:
    return ActorKeyRow(
        key_id=key_id_of(public_key),
        actor_id=actor_id,
        public_key=public_key,
        added_index=index,
        added_at=leaf.integrated_at,
    )


def project(session: Session, index: int, leaf: Leaf, body: ActorRegistered) -> None:
    session.add(
        ActorRow(
            actor_id=body.actor_id,
            role=body.role,
            name=body.name,
            registered_index=index,
            registered_at=leaf.integrated_at,
            institution=body.institution,
        )
    )
    session.add(key_row(body.actor_id, body.public_key, index, leaf))


def rows(body: ActorRegistered) -> list[RowKey]:
    named = [] if body.institution is None else [(ActorRow, body.institution)]
    return [(ActorRow, body.actor_id), *named]


KIND = Kind(
    entry_type="actor.registered",
    body=ActorRegistered,
    signers=("system", "admin"),
    poster="admin",
    route="/v1/actors",
    admit=admit,
    project=project,
    rows=rows,
)
