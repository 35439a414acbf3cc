"""Checks several kinds share, each over a :class:`~creditbank.accounts.kinds.base.Snapshot`."""

from __future__ import annotations

from datetime import date

from creditbank.accounts.kinds.base import Snapshot
from creditbank.accounts.tables import ActorKeyRow, CertificateRow, CreditRow, LearnerRow
from creditbank.errors import ConflictError, NotFoundError, PermissionDenied, RuleViolation

__all__ = ["key_in_use", "not_future", "require_learner", "require_unused_holding_id"]


def require_learner(snapshot: Snapshot, learner_id: str) -> LearnerRow:
    learner = snapshot.get(LearnerRow, learner_id)
    if learner is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")
    return learner


def require_unused_holding_id(snapshot: Snapshot, holding_id: str) -> None:
    if snapshot.get(CertificateRow, holding_id) or snapshot.get(CreditRow, holding_id):
        raise ConflictError(f"holding id {holding_id!r} is already used by a certificate or credit")


def not_future(day: date, today: date, what: str) -> None:
    """``today`` is the log clock's day in the bank's zone, as on the read path (issue 9 item 7)."""
    if day > today:
        raise RuleViolation(f"{what} {day} is in the future", code="date-in-future")


def key_in_use(snapshot: Snapshot, public_key: str) -> bool:
    return bool(snapshot.where(ActorKeyRow, public_key=public_key))


# --- key authority (issue 11) -------------------------------------------------------------

SYSTEM = "system"


def check_key_authority(
    actor_id: str, signer: str, *, added: bool, role: str | None = None
) -> None:
    """Who may change whose keys: see ``docs/security.md``.

    * no entry changes the ``system`` actor's keys (only ``creditbank keys rotate`` does);
    * adding a key needs a signature by a current key of that same actor;
    * revoking a key: that actor itself, or an admin (revoking forges nothing; it only stops).
    """
    if actor_id == SYSTEM:
        raise PermissionDenied(
            "no entry can change the system actor's keys; use `creditbank keys rotate`"
        )
    if added and signer != actor_id:
        raise PermissionDenied(
            f"adding a key to {actor_id} needs a signature by one of {actor_id}'s current keys "
            f"(this entry is signed by {signer})"
        )
    if not added and signer != actor_id and role != "admin":
        raise PermissionDenied(f"only {actor_id} itself or an admin may revoke its keys")
