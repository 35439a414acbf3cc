"""Several signed entries in one request, appended all together or not at all.

``POST /v1/batch`` takes ``{"entries": [{"entry": <signed entry>, "identity": <identity or
null>}, ...]}``: each signed entry exactly as its single write route takes it, and the identity a
``learner.registered`` carries (null for every other type). Each item is checked as its single
route checks it (the token's role for that entry type, the token's actor is the entry's actor),
then all of them are appended in one transaction under one checkpoint. If any item is refused,
nothing is appended and the answer is that item's problem with an ``item`` member (its 0-based
index). Items already in the log (a retried batch) answer their original receipts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from creditbank.accounts.identity import Identity
from creditbank.accounts.tokens import Principal
from creditbank.api.deps import require_roles
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import IdentityIn, ReceiptPublic, SignedEntryIn
from creditbank.api.submission import MAX_BATCH_ITEMS, WriterDep, submit_batch

__all__ = ["BatchIn", "BatchItemIn", "BatchReceipts", "router"]

router = APIRouter(tags=["batch"], responses=problem_responses(401, 403, 404, 409, 422))

Signer = Annotated[Principal, Depends(require_roles("admin", "provider", "registrar"))]


class BatchItemIn(BaseModel):
    """One signed entry, and the identity if it registers a learner."""

    model_config = ConfigDict(strict=True, extra="forbid")

    entry: SignedEntryIn
    identity: IdentityIn | None = None


class BatchIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    entries: Annotated[
        list[BatchItemIn],
        Field(
            min_length=1,
            max_length=MAX_BATCH_ITEMS,
            description=f"1 to {MAX_BATCH_ITEMS} items, appended all together or not at all.",
        ),
    ]


class BatchReceipts(BaseModel):
    receipts: Annotated[
        list[ReceiptPublic], Field(description="One receipt per item, in the items' order.")
    ]


@router.post("/v1/batch", status_code=201, summary="Append several signed entries atomically")
async def post_batch(
    writer: WriterDep, principal: Signer, payload: BatchIn, response: Response
) -> BatchReceipts:
    """All items are appended in one transaction, or none is (a refusal names its `item`).

    Answers 201, or 200 with `Idempotency-Replayed: true` when every item was already in the
    log (a retried batch)."""
    items = [
        (
            item.entry,
            None
            if item.identity is None
            else Identity(
                name=item.identity.name, id_number=item.identity.id_number, salt=item.identity.salt
            ),
        )
        for item in payload.entries
    ]
    receipts = await submit_batch(writer, principal, items)
    if all(receipt.replayed for receipt in receipts):
        response.status_code = 200
        response.headers["Idempotency-Replayed"] = "true"
    return BatchReceipts(receipts=receipts)
