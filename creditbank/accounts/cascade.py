"""Withdrawing a source withdraws what was built on it: revocation and reversal cascades.

When a certificate is revoked (or a conversion reversed), every active conversion that used it as a
source is reversed, then every conversion that used a course *those* recognised, and so on. Each
reversal is a real ``conversion.reversed`` entry, signed by the log's ``system`` actor and appended
in the same batch as its cause, so the history shows exactly what happened and why.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, select

from creditbank.accounts import schemas as s
from creditbank.accounts.holdings import recognised_holding_id
from creditbank.accounts.learners import learner_of
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.rules import conversions_using
from creditbank.accounts.tables import RecognitionRow
from creditbank.ledger.entry import Entry, sign_entry
from creditbank.ledger.log import Batch

__all__ = ["SYSTEM_ACTOR", "recognised_ids", "reverse_dependents"]

#: The log's own actor: signs the genesis entry and cascades, with the log key.
SYSTEM_ACTOR = "system"


def recognised_ids(session: Session, conversion_id: str) -> set[str]:
    """Holding ids of the courses a conversion recognised (sources for further conversions)."""
    rows = session.exec(select(RecognitionRow).where(RecognitionRow.conversion_id == conversion_id))
    return {recognised_holding_id(conversion_id, row.course_code) for row in rows}


def reverse_dependents(
    batch: Batch,
    session: Session,
    system_key: Ed25519PrivateKey,
    holding_ids: set[str],
    cause: int,
    now: datetime,
) -> list[int]:
    """Reverse every active conversion that used any of ``holding_ids``, transitively.

    Returns the indices of the reversal entries, in the order they were appended.
    """
    appended: list[int] = []
    pending = set(holding_ids)
    while pending:
        conversions = conversions_using(session, pending)
        pending = set()
        for conversion_id in conversions:
            body = s.ConversionReversed(
                conversion_id=conversion_id,
                reason=f"a source it used was withdrawn by log entry {cause}",
            )
            # Deterministic and unique per (cause, conversion): a nonce is [A-Za-z0-9_-].
            nonce = f"cascade-{cause}-{conversion_id}".replace(".", "_").replace(":", "_")[:128]
            signed = sign_entry(
                Entry.create(
                    type="conversion.reversed",
                    actor=SYSTEM_ACTOR,
                    nonce=nonce,
                    claimed_at=now,
                    body=body.model_dump(mode="json"),
                ),
                system_key,
            )
            result = batch.add(signed, learner=learner_of(session, body))
            apply_entry(session, result.index, result.leaf, body)
            appended.append(result.index)
            pending |= recognised_ids(session, conversion_id)
    return appended
