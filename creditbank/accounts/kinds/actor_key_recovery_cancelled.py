"""``actor.key_recovery_cancelled``: an actor vetoes a key recovery an admin started for it.

An admin's ``actor.key_recovered`` waits its delay before the key may sign. If the actor still
holds a key (the recovery was a mistake, or an attempt to take it over), any of its current keys
cancels the recovery with this entry; the recovered key is then revoked for good. Only the actor
itself may sign it: an admin that could cancel could also pick which recoveries survive, and the
veto is the actor's. After the delay the key is the actor's like any other: revoke it with
``actor.key_revoked``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.fields import Body, Identifier
from creditbank.accounts.tables import ActorKeyRow
from creditbank.errors import ConflictError, NotFoundError, PermissionDenied
from creditbank.ledger.entry import Leaf, format_time

__all__ = ["KIND", "ActorKeyRecoveryCancelled", "check_cancel"]


class ActorKeyRecoveryCancelled(Body):
    actor_id: Identifier
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


def check_cancel(actor_id: str, signer: str) -> None:
    """The veto is the actor's own: its current key signs, never an admin's."""
    if signer != actor_id:
        raise PermissionDenied(
            f"only {actor_id} itself, with one of its current keys, can cancel a recovery of its "
            f"keys (this entry is signed by {signer})"
        )


def admit(snapshot: Snapshot, body: ActorKeyRecoveryCancelled, admission: Admission) -> None:
    check_cancel(body.actor_id, admission.signed.entry.actor)
    key = snapshot.get(ActorKeyRow, body.key_id)
    if key is None or key.actor_id != body.actor_id or key.recovered_index is None:
        raise NotFoundError(f"actor {body.actor_id!r} has no recovered key {body.key_id}")
    if key.revoked_at is not None:
        raise ConflictError(f"key {body.key_id} is already revoked")
    if key.usable_from is not None and format_time(admission.now) >= key.usable_from:
        raise ConflictError(
            f"the recovery of key {body.key_id} took effect at {key.usable_from}; "
            "revoke the key with actor.key_revoked instead"
        )


def project(session: Session, index: int, leaf: Leaf, body: ActorKeyRecoveryCancelled) -> None:
    row = session.get(ActorKeyRow, body.key_id)
    if row is not None:
        row.revoked_index, row.revoked_at = index, leaf.integrated_at
        session.add(row)


def rows(body: ActorKeyRecoveryCancelled) -> list[RowKey]:
    return [(ActorKeyRow, body.key_id)]


KIND = Kind(
    entry_type="actor.key_recovery_cancelled",
    body=ActorKeyRecoveryCancelled,
    signers=("admin", "provider", "registrar"),
    poster="admin",
    route="/v1/actors/{actor_id}/keys/{key_id}/cancel-recovery",
    admit=admit,
    project=project,
    rows=rows,
    self_service=True,
)
