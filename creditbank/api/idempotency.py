"""Retried writes: find the entry an actor already appended under a nonce, and its receipt.

An entry's ``(actor, nonce)`` pair is unique in the log, so the nonce is the entry's idempotency
key. When a client retries a POST (a timeout, a lost response), the entry it resends is byte for
byte the one it sent before (Ed25519 signatures are deterministic), and the API answers with the
receipt of the entry already in the log instead of appending it again. A *different* entry under a
used nonce is a conflict (409 ``duplicate-nonce``).

The lookup reads the log's own tables; the receipt is rebuilt from them exactly: the index, the
leaf hash, the checkpoint the append wrote (the first one whose tree covers the index) and the
cascade entries the bank appended right behind it.
"""

from __future__ import annotations

from sqlalchemy import Table, select

from creditbank.accounts.bank import SYSTEM_ACTOR, CreditBank, Receipt
from creditbank.ledger.entry import Leaf, SignedEntry
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.sql import LogCheckpointRow, LogEntryRow

__all__ = ["earlier_receipt", "same_entry"]

_ENTRIES: Table = LogEntryRow.__table__  # type: ignore[attr-defined]
_CHECKPOINTS: Table = LogCheckpointRow.__table__  # type: ignore[attr-defined]


def same_entry(leaf: Leaf, signed: SignedEntry) -> bool:
    """Whether ``signed`` is exactly the signed entry inside ``leaf`` (bytes and signature)."""
    return (
        leaf.signed.entry.canonical == signed.entry.canonical
        and leaf.signed.signature_json() == signed.signature_json()
    )


def earlier_receipt(bank: CreditBank, actor: str, nonce: str) -> tuple[Leaf, Receipt] | None:
    """The leaf ``actor`` appended under ``nonce`` and the receipt it was given, if any."""
    with bank.engine.connect() as conn:
        row = conn.execute(
            select(_ENTRIES.c.idx, _ENTRIES.c.leaf).where(
                _ENTRIES.c.actor == actor, _ENTRIES.c.nonce == nonce
            )
        ).first()
        if row is None:
            return None
        index, data = int(row[0]), bytes(row[1])
        checkpoint = conn.execute(
            select(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.note)
            .where(_CHECKPOINTS.c.tree_size > index)
            .order_by(_CHECKPOINTS.c.tree_size, _CHECKPOINTS.c.id)
            .limit(1)
        ).first()
        if checkpoint is None:  # pragma: no cover - every append writes its checkpoint
            return None
        tree_size, note = int(checkpoint[0]), str(checkpoint[1])
        # Cascade reversals are appended by the system actor right behind their cause.
        followers = conn.execute(
            select(_ENTRIES.c.idx, _ENTRIES.c.actor, _ENTRIES.c.entry_type)
            .where(_ENTRIES.c.idx > index, _ENTRIES.c.idx < tree_size)
            .order_by(_ENTRIES.c.idx)
        ).all()
    consequences: list[int] = []
    for idx, follower_actor, entry_type in followers:
        if follower_actor != SYSTEM_ACTOR or entry_type != "conversion.reversed":
            break
        consequences.append(int(idx))
    leaf = Leaf.from_bytes(data)
    receipt = Receipt(
        index=index,
        entry_type=leaf.entry.type,
        leaf_hash=leaf_hash(data),
        tree_size=tree_size,
        checkpoint=note,
        consequences=tuple(consequences),
    )
    return leaf, receipt
