"""Admin: register actors with their public keys, rotate keys, issue and revoke bearer tokens.

Actor and key changes are signed ledger entries like any other write (``actor.registered``,
``actor.key_added``, ``actor.key_revoked``), signed by an admin. Rotating a key is two entries:
add the new key, then revoke the old one. Tokens are not ledger entries: they are random secrets,
shown once and stored hashed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from creditbank.accounts.kinds import KINDS
from creditbank.accounts.tokens import Principal, hash_token
from creditbank.api.deps import BankDep, PrincipalDep, require_roles
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import (
    PrincipalPublic,
    ReceiptPublic,
    SignedEntryIn,
    TokenIn,
    TokenIssued,
)
from creditbank.api.submission import IdempotencyKeyHeader, WriterDep, answer, submit_signed
from creditbank.errors import PermissionDenied

__all__ = ["router"]

router = APIRouter(tags=["admin"], responses=problem_responses(401, 403, 404, 409, 422))

Admin = Annotated[Principal, Depends(require_roles("admin"))]
TokenIssuer = Annotated[Principal, Depends(require_roles("admin", "registrar"))]
ActorId = Annotated[str, Path(min_length=1, max_length=128)]
#: A key id: the first 16 hex digits of the key's SHA-256.
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]


@router.post("/v1/actors", status_code=201, summary="Register an actor and its public key")
async def register_actor(
    writer: WriterDep,
    principal: Admin,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `actor.registered` entry (body: `actor_id`, `role`, `name`, `public_key`)."""
    receipt = await submit_signed(
        writer, principal, payload, kind=KINDS["actor.registered"], idempotency_key=idempotency_key
    )
    return answer(receipt, response)


#: an actor adds keys to itself, with its own token (see docs/security.md).
KeyHolder = Annotated[Principal, Depends(require_roles("admin", "provider", "registrar"))]


@router.post(
    "/v1/actors/{actor_id}/keys", status_code=201, summary="Add a key to an actor (rotation, 1/2)"
)
async def add_key(
    writer: WriterDep,
    principal: KeyHolder,
    actor_id: ActorId,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `actor.key_added` entry whose `body.actor_id` is the path's actor, signed by one of
    that actor's current keys and posted with its own token (key authority)."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["actor.key_added"],
        idempotency_key=idempotency_key,
        path={"actor_id": actor_id},
    )
    return answer(receipt, response)


@router.post(
    "/v1/actors/{actor_id}/keys/{key_id}/revoke",
    status_code=201,
    summary="Revoke an actor's key (rotation, 2/2)",
)
async def revoke_key(
    writer: WriterDep,
    principal: Admin,
    actor_id: ActorId,
    key_id: KeyId,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `actor.key_revoked` entry naming the path's actor and key id."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["actor.key_revoked"],
        idempotency_key=idempotency_key,
        path={"actor_id": actor_id, "key_id": key_id},
    )
    return answer(receipt, response)


@router.post(
    "/v1/actors/{actor_id}/keys/recover",
    status_code=201,
    summary="Recover an actor that lost every key (usable after a delay the actor can veto)",
)
async def recover_key(
    writer: WriterDep,
    principal: Admin,
    actor_id: ActorId,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `actor.key_recovered` entry (body: `actor_id`, `public_key`, `reason`,
    `delay_days` >= 7): the key may sign only after the delay, measured in log time, and until
    then any current key of the actor can cancel it."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["actor.key_recovered"],
        idempotency_key=idempotency_key,
        path={"actor_id": actor_id},
    )
    return answer(receipt, response)


@router.post(
    "/v1/actors/{actor_id}/keys/{key_id}/cancel-recovery",
    status_code=201,
    summary="Cancel a pending key recovery (the actor itself, with a current key)",
)
async def cancel_key_recovery(
    writer: WriterDep,
    principal: KeyHolder,
    actor_id: ActorId,
    key_id: KeyId,
    payload: SignedEntryIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `actor.key_recovery_cancelled` entry naming the path's actor and the recovered
    key id, signed by one of that actor's current keys and posted with its own token."""
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["actor.key_recovery_cancelled"],
        idempotency_key=idempotency_key,
        path={"actor_id": actor_id, "key_id": key_id},
    )
    return answer(receipt, response)


@router.post("/v1/tokens", status_code=201, summary="Issue a bearer token (shown once)")
def issue_token(bank: BankDep, principal: TokenIssuer, payload: TokenIn) -> TokenIssued:
    """Admins issue tokens for actors and learners; registrars for learners only.

    The body names exactly one of `actor_id` and `learner_id`."""
    if principal.role == "registrar" and payload.actor_id is not None:
        raise PermissionDenied("registrars issue tokens for learners only")
    token = bank.issue_token(
        actor_id=payload.actor_id, learner_id=payload.learner_id, label=payload.label, by=principal
    )
    issued = bank.authenticate(token)
    return TokenIssued(
        token=token,
        token_id=hash_token(token),
        role=issued.role,
        actor_id=issued.actor_id,
        learner_id=issued.learner_id,
    )


@router.delete(
    "/v1/tokens/{token_id}",
    status_code=204,
    summary="Revoke a bearer token",
)
def revoke_token(
    bank: BankDep,
    principal: Admin,
    token_id: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    bank.revoke_token(token_id, by=principal)
    return Response(status_code=204)


@router.get("/v1/whoami", tags=["learner"], summary="Who this bearer token belongs to")
def whoami(principal: PrincipalDep) -> PrincipalPublic:
    return PrincipalPublic(
        role=principal.role, actor_id=principal.actor_id, learner_id=principal.learner_id
    )
