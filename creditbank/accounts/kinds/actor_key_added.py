"""``actor.key_added``: an actor adds a signing key to itself (rotation, step 1 of 2).

Key authority (issue 11): the entry must be signed by one of that actor's current keys, so
neither the operator nor an admin can give itself a key of another actor and sign as it. The
actor posts it with its own token (``self_service``). No entry changes the keys of
the ``system`` actor: that is the log key, changed only by ``creditbank keys rotate``.
"""

from __future__ import annotations

from sqlmodel import Session

from creditbank.accounts.kinds.actor_registered import key_row
from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.common import check_key_authority, key_in_use
from creditbank.accounts.kinds.fields import Body, Identifier, PublicKey
from creditbank.accounts.tables import ActorRow
from creditbank.errors import ConflictError, NotFoundError
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "ActorKeyAdded"]


class ActorKeyAdded(Body):
    actor_id: Identifier
    public_key: PublicKey


def admit(snapshot: Snapshot, body: ActorKeyAdded, admission: Admission) -> None:
    check_key_authority(body.actor_id, admission.signed.entry.actor, added=True)
    if snapshot.get(ActorRow, body.actor_id) is None:
        raise NotFoundError(f"actor {body.actor_id!r} is not registered")
    if key_in_use(snapshot, body.public_key):
        raise ConflictError("that public key is already registered")


def project(session: Session, index: int, leaf: Leaf, body: ActorKeyAdded) -> None:
    session.add(key_row(body.actor_id, body.public_key, index, leaf))


def rows(body: ActorKeyAdded) -> list[RowKey]:
    return [(ActorRow, body.actor_id)]


KIND = Kind(
    entry_type="actor.key_added",
    body=ActorKeyAdded,
    signers=("admin", "provider", "registrar"),
    poster="admin",
    route="/v1/actors/{actor_id}/keys",
    admit=admit,
    project=project,
    rows=rows,
    self_service=True,
)
