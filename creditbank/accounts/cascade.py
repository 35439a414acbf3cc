"""Withdrawing a source withdraws what was built on it: revocation and reversal cascades.

When a certificate is revoked (or a conversion reversed), every active conversion that used it as a
source is reversed, then every conversion that used a course *those* recognised, and so on. Each
reversal is a real ``conversion.reversed`` entry, signed by the log's ``system`` actor and appended
in the same batch as its cause, so the history shows exactly what happened and why.

A reversal's nonce is derived from the log index of the conversion it reverses
(``reversal-of-<index>``): log indices are unique and a conversion is reversed at most once, so
two cascades can never collide, whatever characters the conversion ids contain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from creditbank.accounts.kinds.conversion_reversed import KIND as REVERSED
from creditbank.accounts.kinds.conversion_reversed import ConversionReversed
from creditbank.accounts.learner_holdings import recognised_holding_id
from creditbank.accounts.tables import ConversionRow, RecognitionRow, RecognitionSourceRow
from creditbank.ledger.entry import Entry, Leaf, sign_entry
from creditbank.ledger.log import Batch

__all__ = ["SYSTEM_ACTOR", "conversions_using", "reversal_nonce", "reverse_dependents"]

#: The log's own actor: signs the genesis entry and cascades, with the log key.
SYSTEM_ACTOR = "system"


def reversal_nonce(posted_index: int) -> str:
    """The nonce of the system's reversal of the conversion posted at ``posted_index``."""
    return f"reversal-of-{posted_index}"


def conversions_using(session: Session, holding_ids: set[str]) -> list[ConversionRow]:
    """Active conversions with a recognition sourced from any of ``holding_ids``, by index."""
    stmt = (
        select(ConversionRow)
        .join(
            RecognitionSourceRow,
            col(RecognitionSourceRow.conversion_id) == col(ConversionRow.conversion_id),
        )
        .where(col(RecognitionSourceRow.source_id).in_(holding_ids))
        .where(col(ConversionRow.reversed_at).is_(None))
        .distinct()
    )
    return sorted(session.exec(stmt), key=lambda row: row.posted_index)


def reverse_dependents(
    batch: Batch,
    session: Session,
    system_key: Ed25519PrivateKey,
    holding_ids: set[str],
    now: datetime,
    project: Callable[[int, Leaf, ConversionReversed], None],
) -> list[int]:
    """Reverse every active conversion that used any of ``holding_ids``, transitively.

    ``project`` applies each reversal to the read models. Returns the indices of the reversal
    entries, in the order they were appended.
    """
    appended: list[int] = []
    pending = set(holding_ids)
    while pending:
        conversions = conversions_using(session, pending)
        pending = set()
        for conversion in conversions:
            body = ConversionReversed(
                conversion_id=conversion.conversion_id, reason="source-withdrawn"
            )
            signed = sign_entry(
                Entry.create(
                    type=REVERSED.entry_type,
                    actor=SYSTEM_ACTOR,
                    nonce=reversal_nonce(conversion.posted_index),
                    claimed_at=now,
                    body=body.model_dump(mode="json"),
                ),
                system_key,
            )
            result = batch.add(signed)
            project(result.index, result.leaf, body)
            appended.append(result.index)
            rows = session.exec(
                select(RecognitionRow).where(
                    RecognitionRow.conversion_id == conversion.conversion_id
                )
            )
            pending |= {recognised_holding_id(r.conversion_id, r.course_code) for r in rows}
    return appended
