"""Which of my nonces are already in the log: what makes a cohort import resumable.

``POST /v1/imports/known-nonces`` takes up to 1000 nonces and answers those the *caller's own
actor* has already used. A cohort import derives each row's nonce from the row, asks this before
signing a batch, and leaves out the rows already appended (``accounts/cohorts.py``). Another
actor's nonces are never revealed: the query is bound to the token's actor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from creditbank.accounts.cohorts import known_nonces
from creditbank.accounts.tokens import Principal
from creditbank.api.deps import BankDep, require_roles
from creditbank.api.errors import problem_responses
from creditbank.errors import PermissionDenied

__all__ = ["KnownNoncesIn", "KnownNoncesOut", "router"]

router = APIRouter(tags=["imports"], responses=problem_responses(401, 403, 422))

Signer = Annotated[Principal, Depends(require_roles("admin", "provider", "registrar"))]
Nonce = Annotated[str, Field(min_length=1, max_length=128)]


class KnownNoncesIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    nonces: Annotated[list[Nonce], Field(min_length=1, max_length=1000)]


class KnownNoncesOut(BaseModel):
    known: Annotated[list[str], Field(description="The given nonces this actor already used.")]


@router.post("/v1/imports/known-nonces", summary="Which of these nonces has my actor used?")
def post_known_nonces(bank: BankDep, principal: Signer, payload: KnownNoncesIn) -> KnownNoncesOut:
    if principal.actor_id is None:
        raise PermissionDenied("this token is not bound to an actor")
    found = known_nonces(bank.engine, principal.actor_id, payload.nonces)
    return KnownNoncesOut(known=sorted(found))
