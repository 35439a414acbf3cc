"""Mappings: a provider proposes (registers) them, a registrar of the programme's institution
approves them, either side retires them (signed entries)."""

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
    prefix="/v1/mappings", tags=["provider"], responses=problem_responses(401, 403, 404, 409, 422)
)

Provider = Annotated[Principal, Depends(require_roles("provider"))]
Registrar = Annotated[Principal, Depends(require_roles("registrar"))]
#: the owning provider, or a registrar of the programme's institution (issue 12)
EitherSide = Annotated[Principal, Depends(require_roles("provider", "registrar"))]


@router.post("", status_code=201, summary="Register a mapping (or a new version of one)")
async def register_mapping(
    writer: WriterDep,
    principal: Provider,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `mapping.registered` entry; `body.mapping` is the mapping's JSON form and must
    name the signing provider. The catalogue with it must stay consistent."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["mapping.registered"],
        idempotency_key=idempotency_key,
    )
    return answer(receipt, response)


@router.post("/{mapping_id}/retire", status_code=201, summary="Retire every version of a mapping")
async def retire_mapping(
    writer: WriterDep,
    principal: EitherSide,
    mapping_id: Annotated[str, Path(min_length=1, max_length=128)],
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `mapping.retired` entry for the path's mapping, by the provider that owns it or
    a registrar of the institution whose programme it maps into."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["mapping.retired"],
        idempotency_key=idempotency_key,
        path={"mapping_id": mapping_id},
    )
    return answer(receipt, response)


@router.post("/{mapping_id}/approve", status_code=201, summary="Approve a proposed mapping version")
async def approve_mapping(
    writer: WriterDep,
    principal: Registrar,
    mapping_id: Annotated[str, Path(min_length=1, max_length=128)],
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `mapping.approved` entry (body: `mapping_id`, `version`) by a registrar of the
    institution whose programme the mapping maps into; only approved versions count."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["mapping.approved"],
        idempotency_key=idempotency_key,
        path={"mapping_id": mapping_id},
    )
    return answer(receipt, response)
