"""The one write path of the API: check the caller against the signed entry, then submit it.

Every write route hands its parsed body here with the entry type it accepts. In order:

1. rebuild the :class:`~creditbank.ledger.entry.SignedEntry` (its parser alone decides validity);
2. the entry type must be the route's, and ids in the path must match the body's;
3. the bearer token's actor must be the entry's actor (a token does not lend its authority to
   entries someone else signed);
4. an ``Idempotency-Key`` header, when sent, must be the entry's nonce;
5. a byte-identical retry of an entry already in the log answers that entry's receipt;
6. :meth:`creditbank.accounts.bank.CreditBank.submit` checks the signature, the key, the role,
   ownership and every ledger rule, and appends.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Annotated

from fastapi import Header, Response

from creditbank.accounts.bank import CreditBank, Receipt
from creditbank.accounts.identity import Identity
from creditbank.accounts.tokens import Principal
from creditbank.api.idempotency import earlier_receipt, same_entry
from creditbank.api.schemas import ReceiptPublic, SignedEntryIn
from creditbank.errors import DuplicateNonceError, EntryFormatError, InputError, PermissionDenied
from creditbank.ledger.entry import SignedEntry

__all__ = ["IdempotencyKeyHeader", "answer", "receipt_public", "submit_signed"]


def receipt_public(receipt: Receipt, *, replayed: bool = False) -> ReceiptPublic:
    return ReceiptPublic(
        index=receipt.index,
        entry_type=receipt.entry_type,
        leaf_hash=base64.b64encode(receipt.leaf_hash).decode("ascii"),
        tree_size=receipt.tree_size,
        checkpoint=receipt.checkpoint,
        consequences=list(receipt.consequences),
        replayed=replayed,
    )


def _replay(bank: CreditBank, signed: SignedEntry) -> ReceiptPublic | None:
    entry = signed.entry
    found = earlier_receipt(bank, entry.actor, entry.nonce)
    if found is None:
        return None
    leaf, receipt = found
    if not same_entry(leaf, signed):
        raise DuplicateNonceError(
            f"actor {entry.actor} already used nonce {entry.nonce} for another entry "
            f"(log index {receipt.index}); sign a new entry with a fresh nonce"
        )
    return receipt_public(receipt, replayed=True)


def submit_signed(
    bank: CreditBank,
    principal: Principal,
    payload: SignedEntryIn,
    *,
    entry_type: str,
    idempotency_key: str | None = None,
    path_fields: Mapping[str, str] | None = None,
    identity: Identity | None = None,
) -> ReceiptPublic:
    """Submit one signed entry for the caller; answer its receipt (or the original, on retry)."""
    signed = SignedEntry.from_json(payload.signed_json())
    entry = signed.entry
    if entry.type != entry_type:
        raise EntryFormatError(f"this route accepts {entry_type} entries, not {entry.type}")
    for field, value in (path_fields or {}).items():
        if entry.body.get(field) != value:
            raise EntryFormatError(
                f"body.{field} is {entry.body.get(field)!r} but the path names {value!r}"
            )
    if principal.actor_id is None or principal.actor_id != entry.actor:
        raise PermissionDenied(
            f"the entry is by {entry.actor!r}; this token belongs to "
            f"{principal.actor_id or 'a learner'!r} and may only post its own entries"
        )
    if idempotency_key is not None and idempotency_key != entry.nonce:
        raise InputError(
            "the Idempotency-Key of a signed write is the entry's nonce: "
            f"the header says {idempotency_key!r}, the entry {entry.nonce!r}"
        )
    replayed = _replay(bank, signed)
    if replayed is not None:
        return replayed
    try:
        receipt = bank.submit(signed, identity=identity)
    except DuplicateNonceError:
        # A concurrent retry won the race: answer its receipt if it was this very entry.
        replayed = _replay(bank, signed)
        if replayed is None:
            raise
        return replayed
    return receipt_public(receipt)


#: The optional ``Idempotency-Key`` header of a write; when sent it must equal the entry's nonce.
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Optional. The entry's nonce is its idempotency key; if sent, this must "
        "equal it. A byte-identical retry answers 200 with the original receipt.",
    ),
]


def answer(receipt: ReceiptPublic, response: Response) -> ReceiptPublic:
    """201 for a new entry; 200 (and ``Idempotency-Replayed: true``) for a retried one."""
    if receipt.replayed:
        response.status_code = 200
        response.headers["Idempotency-Replayed"] = "true"
    response.headers["Location"] = f"/v1/log/entries/{receipt.index}"
    return receipt
