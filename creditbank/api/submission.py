"""The one write path of the API: check the caller against the signed entry, then submit it.

Every write route hands its parsed body here with the entry type it accepts. In order:

1. rebuild the :class:`~creditbank.ledger.entry.SignedEntry` (its parser alone decides validity);
2. the entry type must be the route's, and ids in the path must match the body's;
3. the bearer token's actor must be the entry's actor (a token does not lend its authority to
   entries someone else signed);
4. an ``Idempotency-Key`` header, when sent, must be the entry's nonce;
5. a byte-identical retry of an entry already in the log answers that entry's receipt;
6. the app's :class:`~creditbank.accounts.group_commit.GroupCommitter` appends it: concurrent
   requests of this process share one transaction and one checkpoint, each in its own savepoint,
   and :meth:`creditbank.accounts.bank.CreditBank.submit_group` checks the signature, the key, the
   role, ownership and every ledger rule for each. Each request gets its own receipt or problem,
   and only after the transaction holding its entry has committed.

The write routes are ``async``: a request waiting for its group holds no worker thread (it awaits
the committer's future on the event loop), so a burst of writes neither exhausts the threadpool
that reads and dependencies run on nor caps the size of a group at that pool's size.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from creditbank.accounts.bank import CreditBank, Receipt, Submission
from creditbank.accounts.group_commit import GroupCommitter
from creditbank.accounts.identity import Identity
from creditbank.accounts.tokens import Principal, Role
from creditbank.api.config import ApiConfig
from creditbank.api.idempotency import earlier_receipt, same_entry
from creditbank.api.schemas import ReceiptPublic, SignedEntryIn
from creditbank.errors import (
    ConflictError,
    CreditbankError,
    DuplicateNonceError,
    EntryFormatError,
    InputError,
    PermissionDenied,
    StorageError,
)
from creditbank.ledger.entry import SignedEntry

__all__ = [
    "MAX_BATCH_ITEMS",
    "ROUTE_ROLES",
    "IdempotencyKeyHeader",
    "LedgerWriter",
    "WriterDep",
    "answer",
    "get_writer",
    "receipt_public",
    "submit_batch",
    "submit_signed",
]

#: The token role each entry type's write route admits; ``POST /v1/batch`` checks each item
#: against the same table, so a batch never lends a role what its single route refuses.
ROUTE_ROLES: dict[str, Role] = {
    "actor.registered": "admin",
    "actor.key_added": "admin",
    "actor.key_revoked": "admin",
    "learner.registered": "registrar",
    "certificate.issued": "provider",
    "certificate.revoked": "provider",
    "credit.earned": "registrar",
    "mapping.registered": "provider",
    "mapping.retired": "provider",
    "conversion.posted": "registrar",
    "conversion.reversed": "registrar",
}

#: Most items one ``POST /v1/batch`` takes (422 beyond): one transaction, one checkpoint.
MAX_BATCH_ITEMS = 1000


@dataclass(frozen=True)
class LedgerWriter:
    """What a write needs: the bank (for replays), the app's group committer, the wait limit."""

    bank: CreditBank
    committer: GroupCommitter
    timeout: float


def get_writer(request: Request) -> LedgerWriter:
    """The app's writer; the committer exists while the app's lifespan runs."""
    committer: GroupCommitter | None = getattr(request.app.state, "committer", None)
    if committer is None:
        raise StorageError("the ledger writer is not running (the server is starting or stopping)")
    config: ApiConfig = request.app.state.config
    return LedgerWriter(request.app.state.bank, committer, config.write_timeout)


WriterDep = Annotated[LedgerWriter, Depends(get_writer)]


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


def _checked_entry(
    principal: Principal,
    payload: SignedEntryIn,
    *,
    entry_type: str,
    idempotency_key: str | None,
    path_fields: Mapping[str, str] | None,
) -> SignedEntry:
    """Steps 1-4: the signed entry, if this caller may post it on this route."""
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
    return signed


async def _committed(future: Future[Receipt], timeout: float) -> Receipt:
    """Await the committer's answer without holding a thread.

    On timeout (or if this request is cancelled) the wait is cancelled, which withdraws the
    submission if its group has not been taken yet; if it has, it commits or fails on its own and
    a retry of the same entry is answered from the log.
    """
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
    except TimeoutError:
        raise StorageError(
            f"the ledger did not commit within {timeout:g} s; retrying the same signed entry is "
            "safe (it is answered with the original receipt if it did commit)"
        ) from None


async def submit_signed(
    writer: LedgerWriter,
    principal: Principal,
    payload: SignedEntryIn,
    *,
    entry_type: str,
    idempotency_key: str | None = None,
    path_fields: Mapping[str, str] | None = None,
    identity: Identity | None = None,
) -> ReceiptPublic:
    """Submit one signed entry for the caller; answer its receipt (or the original, on retry)."""
    bank = writer.bank

    def prepare() -> tuple[SignedEntry, ReceiptPublic | None]:
        # Parsing (canonical bytes of up to the body limit) and the replay lookup (a query) run
        # on a worker thread, never on the event loop.
        signed = _checked_entry(
            principal,
            payload,
            entry_type=entry_type,
            idempotency_key=idempotency_key,
            path_fields=path_fields,
        )
        return signed, _replay(bank, signed)

    signed, replayed = await run_in_threadpool(prepare)
    if replayed is not None:
        return replayed
    future = writer.committer.enqueue(Submission(signed, identity))
    try:
        receipt = await _committed(future, writer.timeout)
    except ConflictError:
        # A concurrent retry of this very entry won the race (it may even have been committed in
        # the same group, just ahead of this one): answer its receipt. Any other conflict stands.
        replayed = await run_in_threadpool(_replay, bank, signed)
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


def _batch_item(
    bank: CreditBank, principal: Principal, position: int, payload: SignedEntryIn
) -> tuple[SignedEntry, ReceiptPublic | None]:
    """One batch item checked exactly as its single route checks it, and its replay if any."""
    try:
        entry_type = payload.entry.type
        role = ROUTE_ROLES.get(entry_type)
        if role is None:
            known = ", ".join(sorted(ROUTE_ROLES))
            raise EntryFormatError(f"unknown entry type {entry_type!r}; known types: {known}")
        if principal.role != role:
            raise PermissionDenied(
                f"{entry_type} entries are posted with {role} tokens; this token is a "
                f"{principal.role}'s"
            )
        signed = _checked_entry(
            principal, payload, entry_type=entry_type, idempotency_key=None, path_fields=None
        )
        return signed, _replay(bank, signed)
    except CreditbankError as exc:
        exc.in_item(position)
        raise


async def submit_batch(
    writer: LedgerWriter,
    principal: Principal,
    items: Sequence[tuple[SignedEntryIn, Identity | None]],
) -> list[ReceiptPublic]:
    """Append every item or none, in one transaction; items already in the log answer their
    original receipts (so a retried batch appends nothing twice). A refusal is a
    domain error whose ``item`` names the refused item's position."""
    bank = writer.bank

    def run() -> list[ReceiptPublic]:
        prepared = [
            _batch_item(bank, principal, position, payload)
            for position, (payload, _) in enumerate(items)
        ]
        fresh = [
            (position, Submission(signed, items[position][1]))
            for position, (signed, replayed) in enumerate(prepared)
            if replayed is None
        ]
        answers: list[ReceiptPublic | None] = [replayed for _, replayed in prepared]
        if fresh:
            try:
                receipts = bank.submit_batch([submission for _, submission in fresh])
            except CreditbankError as exc:
                if exc.item is not None:  # its position among the fresh items -> in the batch
                    exc.in_item(fresh[exc.item][0])
                raise
            for (position, _), receipt in zip(fresh, receipts, strict=True):
                answers[position] = receipt_public(receipt)
        return [answer for answer in answers if answer is not None]

    try:
        return await run_in_threadpool(run)
    except DuplicateNonceError:
        # A concurrent retry of one of these entries may have committed between the replay
        # lookup and the append: look again once; a conflict that remains stands.
        return await run_in_threadpool(run)
