"""The one write path of the API: check the caller against the signed entry, then submit it.

Every write route hands its parsed body here with the entry type it accepts. In order:

1. rebuild the :class:`~creditbank.ledger.entry.SignedEntry` (its parser alone decides validity)
   from the body as :func:`get_writer` parsed it, once, refusing duplicate member names (the
   route's model, parsed by FastAPI, documents the shape and refuses malformed bodies early);
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
import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from creditbank.accounts.bank import CreditBank, Receipt, Submission
from creditbank.accounts.group_commit import GroupCommitter
from creditbank.accounts.identity import Identity
from creditbank.accounts.kinds import Kind, kind_of
from creditbank.accounts.tokens import Principal
from creditbank.api.config import ApiConfig
from creditbank.api.schemas import ReceiptPublic, SignedEntryIn
from creditbank.errors import (
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
    "IdempotencyKeyHeader",
    "LedgerWriter",
    "WriterDep",
    "answer",
    "get_writer",
    "receipt_public",
    "submit_batch",
    "submit_signed",
]

#: Most items one ``POST /v1/batch`` takes (422 beyond): one transaction, one checkpoint.
MAX_BATCH_ITEMS = 1000


@dataclass(frozen=True)
class LedgerWriter:
    """What a write needs: the bank (for replays), the app's group committer, the wait limit,
    and the request's body as parsed once with duplicate members refused (``None``: not JSON)."""

    bank: CreditBank
    committer: GroupCommitter
    timeout: float
    body: Any = None


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InputError(
                f"the request body has the member {key!r} twice; JSON members are unique"
            )
        seen[key] = value
    return seen


async def get_writer(request: Request) -> LedgerWriter:
    """The app's writer; the committer exists while the app's lifespan runs.

    Every write's body is also checked here for duplicate member names, which JSON parsers
    resolve differently (first wins, last wins): a signed entry must read one way only."""
    try:
        body = json.loads(await request.body(), object_pairs_hook=_unique_members)
    except ValueError:
        body = None  # not JSON at all: the route's own body parsing answers that
    committer: GroupCommitter | None = getattr(request.app.state, "committer", None)
    if committer is None:
        raise StorageError("the ledger writer is not running (the server is starting or stopping)")
    config: ApiConfig = request.app.state.config
    return LedgerWriter(request.app.state.bank, committer, config.write_timeout, body)


WriterDep = Annotated[LedgerWriter, Depends(get_writer)]


def receipt_public(receipt: Receipt) -> ReceiptPublic:
    return ReceiptPublic(
        index=receipt.index,
        entry_type=receipt.entry_type,
        leaf_hash=base64.b64encode(receipt.leaf_hash).decode("ascii"),
        tree_size=receipt.tree_size,
        checkpoint=receipt.checkpoint,
        consequences=list(receipt.consequences),
        replayed=receipt.replayed,
    )


def _signed_json(payload: SignedEntryIn, body: Any) -> Any:
    """The signed entry's JSON: the request body's own members when the body is this payload
    (no second serialisation and parse of the same entry), else the model's."""
    if isinstance(body, dict) and "entry" in body and "signature" in body:
        return {"entry": body["entry"], "signature": body["signature"]}
    return payload.signed_json()


def _checked_entry(
    principal: Principal,
    payload: SignedEntryIn,
    *,
    kind: Kind,
    idempotency_key: str | None,
    path: Mapping[str, str],
    body: Any = None,
) -> SignedEntry:
    """Steps 1-4: the signed entry, if this caller may post it on this route."""
    signed = SignedEntry.from_json(_signed_json(payload, body))
    entry = signed.entry
    if entry.type != kind.entry_type:
        raise EntryFormatError(f"this route accepts {kind.entry_type} entries, not {entry.type}")
    own_keys = kind.self_service and principal.role in kind.signers  # key authority
    if principal.role != kind.poster and not own_keys:
        raise PermissionDenied(
            f"{kind.entry_type} entries are posted with {kind.poster or 'no'} tokens; this token "
            f"is a {principal.role}'s"
        )
    for field, value in path.items():
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
    kind: Kind,
    idempotency_key: str | None = None,
    path: Mapping[str, str] | None = None,
    identity: Identity | None = None,
) -> ReceiptPublic:
    """Submit one signed entry for the caller; answer its receipt (or the original, on retry).

    ``path`` holds the route's path parameters, which must be exactly the kind's
    :attr:`~creditbank.accounts.kinds.Kind.path_fields` and equal the body's fields."""
    path = dict(path or {})
    if set(path) != set(kind.path_fields):  # pragma: no cover - a route disagreeing with its kind
        raise StorageError(f"route for {kind.entry_type} passes {sorted(path)}")
    signed = _checked_entry(
        principal,
        payload,
        kind=kind,
        idempotency_key=idempotency_key,
        path=path,
        body=writer.body,
    )
    future = writer.committer.enqueue(Submission(signed, identity))
    try:
        receipt = await _committed(future, writer.timeout)
    except DuplicateNonceError:
        # A concurrent retry of this very entry won the race (it may even have been committed in
        # the same group, just ahead of this one): answer its receipt. Any other conflict stands.
        replayed = await run_in_threadpool(writer.bank.replayed, signed)
        if replayed is None:
            raise
        return receipt_public(replayed)
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


def _batch_item(principal: Principal, position: int, payload: SignedEntryIn) -> SignedEntry:
    """One batch item checked exactly as its single route checks it."""
    try:
        kind = kind_of(payload.entry.type)
        return _checked_entry(principal, payload, kind=kind, idempotency_key=None, path={})
    except CreditbankError as exc:
        exc.in_item(position)
        raise


async def submit_batch(
    writer: LedgerWriter,
    principal: Principal,
    items: Sequence[tuple[SignedEntryIn, Identity | None]],
) -> list[ReceiptPublic]:
    """Append every item or none, in one transaction; items already in the log answer their
    original receipts (so a retried batch appends nothing twice). A refusal is raised as the
    domain error whose ``item`` names the refused item's position."""
    submissions = [
        Submission(_batch_item(principal, position, payload), identity)
        for position, (payload, identity) in enumerate(items)
    ]
    receipts = await run_in_threadpool(writer.bank.submit_batch, submissions)
    return [receipt_public(receipt) for receipt in receipts]
