"""``actor.registered``: an admin registers an actor (provider, registrar, admin) and its key."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.common import key_in_use
from creditbank.accounts.kinds.fields import Body, Identifier, PublicKey
from creditbank.accounts.tables import ActorKeyRow, ActorRow
from creditbank.errors import ConflictError, PermissionDenied
from creditbank.ledger.entry import Leaf, key_id_of

__all__ = ["KIND", "ActorRegistered", "key_row"]


class ActorRegistered(Body):
    actor_id: Identifier
    role: Literal["system", "admin", "provider", "registrar"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    public_key: PublicKey


def admit(snapshot: Snapshot, body: ActorRegistered, _admission: Admission) -> None:
    if body.role == "system":
        raise PermissionDenied("only the log's genesis registers the system actor")
    if snapshot.get(ActorRow, body.actor_id) is not None:
        raise ConflictError(f"actor {body.actor_id!r} already exists")
    if key_in_use(snapshot, body.public_key):
        raise ConflictError("that public key already belongs to an actor")


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
        )
    )
    session.add(key_row(body.actor_id, body.public_key, index, leaf))


def rows(body: ActorRegistered) -> list[RowKey]:
    return [(ActorRow, body.actor_id)]


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
