"""Registrar: record course credits a learner earned (signed ``credit.earned`` entries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from creditbank.accounts.kinds import KINDS
from creditbank.accounts.tokens import Principal
from creditbank.api.deps import require_roles
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import ReceiptPublic, SignedEntryIn
from creditbank.api.submission import IdempotencyKeyHeader, WriterDep, answer, submit_signed

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/credits", tags=["registrar"], responses=problem_responses(401, 403, 404, 409, 422)
)

Registrar = Annotated[Principal, Depends(require_roles("registrar"))]


@router.post("", status_code=201, summary="Record earned course credits")
async def record_credit(
    writer: WriterDep,
    principal: Registrar,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `credit.earned` entry (credit id, learner, institution, course, credits as a
    decimal string, percentage grade, date)."""
    receipt = await submit_signed(
        writer, principal, payload, kind=KINDS["credit.earned"], idempotency_key=idempotency_key
    )
    return answer(receipt, response)
