"""Withdrawing a source withdraws what was built on it: revocation and reversal cascades.

When a certificate is revoked (or a conversion reversed), every active conversion that used it as a
source is reversed, then every conversion that used a course *those* recognised, and so on. Each
reversal is a real ``conversion.reversed`` entry, signed by the log's ``system`` actor and appended
in the same batch as its cause, so the history shows exactly what happened and why.

Since issue 12 item 5, a revocation reverses only what depended on it: the part of a reversed
conversion that other, standing holdings still support is posted again by the system actor right
behind the reversal (both entries are in the learner's transcript).

A reversal's nonce is derived from the log index of the conversion it reverses
(``reversal-of-<index>``): log indices are unique and a conversion is reversed at most once, so
two cascades can never collide, whatever characters the conversion ids contain.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlmodel import Session, col, select

from creditbank.accounts.kinds.conversion_posted import KIND as POSTED
from creditbank.accounts.kinds.conversion_posted import ConversionPosted, RecognitionClaim
from creditbank.accounts.kinds.conversion_reversed import KIND as REVERSED
from creditbank.accounts.kinds.conversion_reversed import ConversionReversed
from creditbank.accounts.kinds.fields import Body
from creditbank.accounts.learner_holdings import recognised_holding_id
from creditbank.accounts.tables import ConversionRow, RecognitionRow, RecognitionSourceRow
from creditbank.ledger.entry import Entry, Leaf, SignedEntry, sign_entry
from creditbank.ledger.log import Batch

__all__ = [
    "SYSTEM_ACTOR",
    "conversions_using",
    "repost_nonce",
    "reversal_nonce",
    "reverse_dependents",
]

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
    project: Callable[[int, Leaf, Body], None],
) -> list[int]:
    """Reverse every active conversion that used any of ``holding_ids``, transitively, and re-post
    what the remaining holdings still support (issue 12 item 5).

    A reversed conversion's recognitions whose sources were all left standing are posted again,
    unchanged, in a system-signed ``conversion.posted`` right after the reversal (see
    :func:`_repost`); a later conversion that used one of them as a source is re-pointed to the
    re-posted recognition. ``project`` applies each entry to the read models. Returns the indices
    of the appended entries, in order.
    """
    appended: list[int] = []
    withdrawn = set(holding_ids)  # sources that no longer stand
    renamed: dict[str, str] = {}  # recognition id -> the re-posted recognition's id
    pending = set(holding_ids)
    while pending:
        conversions = conversions_using(session, pending)
        pending = set()
        for conversion in conversions:
            rows = list(
                session.exec(
                    select(RecognitionRow).where(
                        RecognitionRow.conversion_id == conversion.conversion_id
                    )
                )
            )
            body = ConversionReversed(
                conversion_id=conversion.conversion_id, reason="source-withdrawn"
            )
            # A reversal is about the conversion's learner; the log chains it there.
            result = batch.add(
                _system_entry(
                    system_key, REVERSED.entry_type, reversal_nonce(conversion.posted_index),
                    body.model_dump(mode="json"), now,
                ),
                learner=conversion.learner_id,
            )  # fmt: skip
            project(result.index, result.leaf, body)
            appended.append(result.index)
            pending |= {recognised_holding_id(r.conversion_id, r.course_code) for r in rows}
            standing = [r for r in rows if not set(r.sources.split()) & withdrawn]
            withdrawn |= {
                recognised_holding_id(r.conversion_id, r.course_code)
                for r in rows
                if r not in standing
            }
            if standing:
                appended.append(
                    _repost(batch, session, system_key, conversion, standing, renamed, now, project)
                )
    return appended


def repost_nonce(posted_index: int) -> str:
    """The nonce of the system's re-post of what survived the conversion at ``posted_index``."""
    return f"repost-of-{posted_index}"


def _system_entry(
    key: Ed25519PrivateKey, entry_type: str, nonce: str, body: dict[str, object], now: datetime
) -> SignedEntry:
    return sign_entry(
        Entry.create(type=entry_type, actor=SYSTEM_ACTOR, nonce=nonce, claimed_at=now, body=body),
        key,
    )


def _repost(
    batch: Batch,
    session: Session,
    system_key: Ed25519PrivateKey,
    conversion: ConversionRow,
    standing: list[RecognitionRow],
    renamed: dict[str, str],
    now: datetime,
    project: Callable[[int, Leaf, Body], None],
) -> int:
    """Post again, as of the original date, the recognitions whose sources all still stand."""
    new_id = conversion.conversion_id[:100] + f".r{conversion.posted_index}"
    while session.get(ConversionRow, new_id) is not None:  # a registrar took the name: extend it
        new_id += "r"
    body = ConversionPosted(
        conversion_id=new_id,
        learner_id=conversion.learner_id,
        programme_code=conversion.programme_code,
        as_of=conversion.as_of,
        recognitions=[
            RecognitionClaim(
                course_code=r.course_code,
                credits=r.credits,
                mapping_id=r.mapping_id,
                sources=[renamed.get(s, s) for s in r.sources.split()],
            )
            for r in standing
        ],
    )
    result = batch.add(
        _system_entry(
            system_key, POSTED.entry_type, repost_nonce(conversion.posted_index),
            body.model_dump(mode="json"), now,
        ),
        learner=conversion.learner_id,
    )  # fmt: skip
    project(result.index, result.leaf, body)
    for r in standing:
        renamed[recognised_holding_id(r.conversion_id, r.course_code)] = recognised_holding_id(
            new_id, r.course_code
        )
    return result.index
