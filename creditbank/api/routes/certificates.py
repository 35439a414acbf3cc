"""Provider: issue and revoke a learner's vocational certificates (signed entries).

Revoking a certificate reverses, in the same append, every conversion that used it (transitively);
the receipt's ``consequences`` lists those reversal entries.
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
    prefix="/v1/certificates",
    tags=["provider"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

Provider = Annotated[Principal, Depends(require_roles("provider"))]


@router.post("", status_code=201, summary="Issue a certificate to a learner")
async def issue_certificate(
    writer: WriterDep,
    principal: Provider,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `certificate.issued` entry (certificate id, learner, occupation code, level,
    issue date)."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["certificate.issued"],
        idempotency_key=idempotency_key,
    )
    return answer(receipt, response)


@router.post("/{certificate_id}/revoke", status_code=201, summary="Revoke a certificate")
async def revoke_certificate(
    writer: WriterDep,
    principal: Provider,
    certificate_id: Annotated[str, Path(min_length=1, max_length=128)],
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `certificate.revoked` entry, by the provider that issued the certificate."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["certificate.revoked"],
        idempotency_key=idempotency_key,
        path={"certificate_id": certificate_id},
    )
    return answer(receipt, response)
