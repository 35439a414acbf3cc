"""``actor.key_revoked``: an admin revokes an actor's key (rotation, step 2 of 2)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.fields import Body, Identifier
from creditbank.accounts.tables import ActorKeyRow
from creditbank.errors import ConflictError, NotFoundError
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "ActorKeyRevoked"]


class ActorKeyRevoked(Body):
    actor_id: Identifier
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


def admit(snapshot: Snapshot, body: ActorKeyRevoked, _admission: Admission) -> None:
    key = snapshot.get(ActorKeyRow, body.key_id)
    if key is None or key.actor_id != body.actor_id:
        raise NotFoundError(f"actor {body.actor_id!r} has no key {body.key_id}")
    if key.revoked_at is not None:
        raise ConflictError(f"key {body.key_id} is already revoked")


def project(session: Session, index: int, leaf: Leaf, body: ActorKeyRevoked) -> None:
    row = session.get(ActorKeyRow, body.key_id)
    if row is not None:
        row.revoked_index, row.revoked_at = index, leaf.integrated_at
        session.add(row)


def rows(body: ActorKeyRevoked) -> list[RowKey]:
    return [(ActorKeyRow, body.key_id)]


KIND = Kind(
    entry_type="actor.key_revoked",
    body=ActorKeyRevoked,
    signers=("system", "admin"),
    poster="admin",
    route="/v1/actors/{actor_id}/keys/{key_id}/revoke",
    admit=admit,
    project=project,
    rows=rows,
)
