"""Registrar: post conversions (recognised courses) and reverse them (signed entries).

A conversion's recognitions are checked by the planner's own rules before it is appended: ask
``GET /v1/learners/{id}/plan`` and post what it returns. Reversing a conversion also reverses,
in the same append, every conversion built on the courses it recognised.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from creditbank.accounts.kinds import KINDS
from creditbank.accounts.tokens import Principal
from creditbank.api.deps import require_roles
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import ReceiptPublic, SignedEntryIn
from creditbank.api.submission import IdempotencyKeyHeader, WriterDep, answer, submit_signed

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/conversions",
    tags=["registrar"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

Registrar = Annotated[Principal, Depends(require_roles("registrar"))]


@router.post("", status_code=201, summary="Post a conversion")
async def post_conversion(
    writer: WriterDep,
    principal: Registrar,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `conversion.posted` entry: learner, programme, as-of date and the recognitions
    (course, credits, mapping, source holdings), exactly as the planner proposed them."""
    receipt = await submit_signed(
        writer, principal, payload, kind=KINDS["conversion.posted"], idempotency_key=idempotency_key
    )
    return answer(receipt, response)


@router.post("/{conversion_id}/reverse", status_code=201, summary="Reverse a conversion")
async def reverse_conversion(
    writer: WriterDep,
    principal: Registrar,
    conversion_id: Annotated[str, Path(min_length=1, max_length=128)],
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `conversion.reversed` entry naming the path's conversion and a reason."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["conversion.reversed"],
        idempotency_key=idempotency_key,
        path={"conversion_id": conversion_id},
    )
    return answer(receipt, response)
