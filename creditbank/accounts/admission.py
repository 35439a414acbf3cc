"""The checks every entry passes, in order, before its kind's own rules run.

1. The signature verifies (done first, by the bank, before any state is read: a caller whose
   signature does not verify learns nothing about the database).
2. Key authority: the signing key is a current key of the named actor, whose role may sign the
   kind (:func:`check_signer`).
3. The claimed time is plausible (:func:`check_claimed_at`): not more than
   :data:`MAX_CLAIM_AHEAD` ahead of the log's clock, nor more than :data:`MAX_CLAIM_BEHIND` behind
   it (an entry signed over a month ago and sent now is stale: sign it again).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from creditbank.accounts.kinds.base import Kind, Snapshot
from creditbank.accounts.tables import ActorKeyRow, ActorRow
from creditbank.errors import PermissionDenied, RuleViolation, SignatureError
from creditbank.ledger.entry import SignedEntry, format_time, parse_time

__all__ = ["MAX_CLAIM_AHEAD", "MAX_CLAIM_BEHIND", "check_claimed_at", "check_signer"]

#: How far ahead of the log's clock an entry's ``claimed_at`` may be (clock skew).
MAX_CLAIM_AHEAD = timedelta(minutes=5)
#: How far behind the log's clock an entry's ``claimed_at`` may be (offline signing, retries).
MAX_CLAIM_BEHIND = timedelta(days=30)


def check_signer(
    snapshot: Snapshot, signed: SignedEntry, kind: Kind, *, now: datetime | None = None
) -> ActorRow:
    """The signing key must be a current key of the named actor, whose role may sign ``kind``.

    A key an admin recovered (``actor.key_recovered``) signs nothing before its ``usable_from``,
    judged by the log's clock ``now`` and by the entry's own claimed time, so that an entry signed
    during the actor's veto window cannot be held back and appended once it closed.
    """
    entry = signed.entry
    actor = snapshot.get(ActorRow, entry.actor)
    if actor is None:
        raise PermissionDenied(f"actor {entry.actor!r} is not registered")
    key = snapshot.get(ActorKeyRow, signed.key_id)
    if key is None or key.actor_id != actor.actor_id or key.public_key != signed.public_key:
        raise SignatureError(
            f"entry is signed with key {signed.key_id}, not a key of {entry.actor}"
        )
    if key.revoked_at is not None:
        raise SignatureError(
            f"key {signed.key_id} of {entry.actor} was revoked at {key.revoked_at}"
        )
    if key.usable_from is not None:
        _check_recovered_key(signed, key.usable_from, now)
    if actor.role not in kind.signers:
        raise PermissionDenied(
            f"{entry.type} must be signed by {' or '.join(kind.signers)}; "
            f"{entry.actor} is {actor.role}"
        )
    return actor


def _check_recovered_key(signed: SignedEntry, usable_from: str, now: datetime | None) -> None:
    claimed = format_time(parse_time(signed.entry.claimed_at, "entry.claimed_at"))
    if now is None or format_time(now) < usable_from or claimed < usable_from:
        raise SignatureError(
            f"key {signed.key_id} of {signed.entry.actor} was recovered by an admin and may sign "
            f"only from {usable_from} (log time); until then {signed.entry.actor} can cancel it"
        )


def check_claimed_at(signed: SignedEntry, now: datetime) -> None:
    """Refuse a claimed time too far ahead of (or behind) the log's clock."""
    claimed = parse_time(signed.entry.claimed_at, "entry.claimed_at")
    if claimed > now + MAX_CLAIM_AHEAD:
        raise RuleViolation(
            f"entry.claimed_at {signed.entry.claimed_at} is more than "
            f"{int(MAX_CLAIM_AHEAD.total_seconds() // 60)} minutes ahead of the log's clock",
            code="claimed-in-future",
        )
    if claimed < now - MAX_CLAIM_BEHIND:
        raise RuleViolation(
            f"entry.claimed_at {signed.entry.claimed_at} is more than "
            f"{MAX_CLAIM_BEHIND.days} days behind the log's clock; sign the entry again",
            code="claimed-too-old",
        )
