"""Public routes of the learner index and witnessing (issue 11). No authentication: like the log,
everything here is verifiable by whoever fetches it, and reveals nothing the log does not.

* ``GET /v1/index/latest``: the latest ``ledger.learner_index`` entry, its inclusion proof and the
  signed checkpoint it is proven under;
* ``GET /v1/index/learners/{learner_id}``: the learner's map proof as of a tree size (default: the
  latest), and their entries after ``since`` (a count), each with its inclusion proof;
* ``GET /v1/log/checkpoint/cosigned``: the latest checkpoint with witnesses' cosignatures.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse
from sqlmodel import Session

from creditbank.accounts.index_proofs import latest_index_entry, learner_index_proof
from creditbank.api.deps import BankDep
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import DIGITS_ONLY
from creditbank.errors import NotFoundError
from creditbank.ledger.cosigned_store import CosignedStore

__all__ = ["router"]

router = APIRouter(tags=["learner index"], responses=problem_responses(404, 422))

_MAX = 2**63 - 1


@router.get("/v1/index/latest", summary="Latest learner index entry, proven under a checkpoint")
def latest(bank: BankDep) -> dict[str, Any]:
    with Session(bank.engine) as session:
        return latest_index_entry(session, bank.log)


@router.get(
    "/v1/index/learners/{learner_id}",
    summary="A learner's map proof at a tree size, and their entries since a count",
)
def learner_proof(
    bank: BankDep,
    learner_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")],
    tree_size: Annotated[
        int | None,
        Query(ge=1, le=_MAX, description="A checkpointed tree size; defaults to the latest"),
        DIGITS_ONLY,
    ] = None,
    since: Annotated[
        int,
        Query(ge=0, le=_MAX, description="Return the learner's entries after this many"),
        DIGITS_ONLY,
    ] = 0,
) -> dict[str, Any]:
    with Session(bank.engine) as session:
        return learner_index_proof(session, bank.log, learner_id, tree_size=tree_size, since=since)


@router.get(
    "/v1/log/checkpoint/cosigned",
    response_class=PlainTextResponse,
    summary="Latest checkpoint cosigned by witnesses (C2SP tlog-cosignature)",
)
def cosigned(bank: BankDep) -> PlainTextResponse:
    found = CosignedStore(bank.engine).latest()
    if found is None:
        raise NotFoundError("no checkpoint has been cosigned by a witness yet")
    return PlainTextResponse(found[1])
