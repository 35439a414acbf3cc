"""``actor.key_recovered``: an admin gives a new key to an actor that lost every key of its own.

Key authority (issue 11, item 7) means only an actor can add keys to itself; an actor whose keys
are all lost would be locked out for good. Recovery is the operator's one way in, made *visible
and vetoable* rather than silent:

* it is a log entry of its own type, signed by an admin, stating a reason code from
  :data:`~creditbank.accounts.kinds.fields.KEY_RECOVERY_REASONS` and the new public key;
* the key becomes usable only ``delay_days`` (at least :data:`MIN_DELAY_DAYS`) of *log time*
  after the entry was integrated: :func:`~creditbank.accounts.admission.check_signer` compares
  the key row's ``usable_from`` with the log clock of each later append;
* until then any current key of that actor can cancel it (``actor.key_recovery_cancelled``); an
  admin cannot;
* ``creditbank verify`` and transcripts flag every entry signed under a recovered key.

The floor is in the code, not in configuration, so a verifier holding only the log can check it;
an admin may choose a longer delay (the CLI's default is ``CREDITBANK_KEY_RECOVERY_DELAY_DAYS``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt
from sqlmodel import Session

from creditbank.accounts.kinds.actor_registered import key_row
from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.common import SYSTEM, key_in_use
from creditbank.accounts.kinds.fields import KEY_RECOVERY_REASONS, Body, Identifier, PublicKey
from creditbank.accounts.tables import ActorRow
from creditbank.errors import ConflictError, NotFoundError, PermissionDenied
from creditbank.ledger.entry import Leaf, format_time, parse_time

__all__ = ["DEFAULT_DELAY_DAYS", "KIND", "MIN_DELAY_DAYS", "ActorKeyRecovered", "usable_from"]

#: The shortest delay the log accepts, in days of log time (a verifier checks it from the log).
MIN_DELAY_DAYS = 7
#: The default delay: the floor.
DEFAULT_DELAY_DAYS = MIN_DELAY_DAYS
MAX_DELAY_DAYS = 90


def _recovery_reason(value: str) -> str:
    if value not in KEY_RECOVERY_REASONS:
        raise ValueError(
            "must be one of the key recovery reasons: " + ", ".join(KEY_RECOVERY_REASONS)
        )
    return value


class ActorKeyRecovered(Body):
    actor_id: Identifier
    public_key: PublicKey
    reason: Annotated[str, AfterValidator(_recovery_reason)]
    delay_days: Annotated[StrictInt, Field(ge=MIN_DELAY_DAYS, le=MAX_DELAY_DAYS)] = (
        DEFAULT_DELAY_DAYS
    )


def usable_from(integrated_at: str, delay_days: int) -> str:
    """The log time from which a recovered key may sign: integration time plus the delay.

    Pure, and spelled like every log time, so the live path, the authority audit and the transcript
    verifier derive the same instant from the same leaf.
    """
    return format_time(parse_time(integrated_at, "leaf.integrated_at") + timedelta(days=delay_days))


def check_recovery_target(actor_id: str, signer: str) -> None:
    """Neither the system actor (the log key) nor the signing admin itself can be recovered."""
    if actor_id == SYSTEM:
        raise PermissionDenied(
            "no entry can change the system actor's keys; use `creditbank keys rotate`"
        )
    if actor_id == signer:
        raise PermissionDenied(
            f"{signer} holds a key (it signed this entry): add a key with actor.key_added instead"
        )


def admit(snapshot: Snapshot, body: ActorKeyRecovered, admission: Admission) -> None:
    check_recovery_target(body.actor_id, admission.signed.entry.actor)
    if snapshot.get(ActorRow, body.actor_id) is None:
        raise NotFoundError(f"actor {body.actor_id!r} is not registered")
    if key_in_use(snapshot, body.public_key):
        raise ConflictError("that public key is already registered")


def project(session: Session, index: int, leaf: Leaf, body: ActorKeyRecovered) -> None:
    row = key_row(body.actor_id, body.public_key, index, leaf)
    row.recovered_index = index
    row.usable_from = usable_from(leaf.integrated_at, body.delay_days)
    session.add(row)


def rows(body: ActorKeyRecovered) -> list[RowKey]:
    return [(ActorRow, body.actor_id)]


KIND = Kind(
    entry_type="actor.key_recovered",
    body=ActorKeyRecovered,
    signers=("admin",),
    poster="admin",
    route="/v1/actors/{actor_id}/keys/recover",
    admit=admit,
    project=project,
    rows=rows,
)
