"""Programmes: a registrar of an institution registers its programmes and their new versions
(signed ``programme.registered`` entries, issue 12). Reading them is the public catalogue's."""

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
    prefix="/v1/programmes", tags=["registrar"], responses=problem_responses(401, 403, 409, 422)
)

Registrar = Annotated[Principal, Depends(require_roles("registrar"))]


@router.post("", status_code=201, summary="Register a programme (or a new version of one)")
async def register_programme(
    writer: WriterDep,
    principal: Registrar,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `programme.registered` entry (body: `programme`, `version`, `effective_from`) by
    a registrar of the programme's institution. Versions count up by one; a new version takes
    effect after today; the catalogue with it in force must stay consistent."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["programme.registered"],
        idempotency_key=idempotency_key,
    )
    return answer(receipt, response)
