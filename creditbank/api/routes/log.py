"""The public log: checkpoints, the verifier key, entries and RFC 9162 proofs. No authentication.

These routes are the contract outside verifiers depend on, so they speak the standards' formats
unchanged: the checkpoint is a C2SP signed note (``text/plain``), the key a signed-note verifier
key, each entry the leaf object whose RFC 8785 encoding is exactly the stored leaf bytes, and the
proofs the RFC 9162 hash lists, base64-encoded.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from creditbank.api.deps import BankDep, ConfigDep
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import (
    DIGITS_ONLY,
    ConsistencyProofPublic,
    InclusionProofPublic,
    LogEntriesPage,
    LogEntryPublic,
)
from creditbank.errors import NotFoundError
from creditbank.ledger.entry import Leaf
from creditbank.ledger.merkle import leaf_hash

__all__ = ["router"]

router = APIRouter(prefix="/v1/log", tags=["public log"], responses=problem_responses(404, 422))

_TEXT = {"content": {"text/plain": {"schema": {"type": "string"}}}}

#: Tree sizes are signed 64-bit integers in the database, and an index is below a tree size:
#: anything larger is not a position in any log (and would overflow the database's integers).
MAX_TREE_SIZE = 2**63 - 1
MAX_INDEX = MAX_TREE_SIZE - 1
TreeSize = Annotated[int, Query(ge=0, le=MAX_TREE_SIZE), DIGITS_ONLY]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _entry(index: int, leaf: Leaf) -> LogEntryPublic:
    return LogEntryPublic(index=index, leaf=leaf.to_json(), leaf_hash=_b64(leaf_hash(leaf.data)))


@router.get(
    "/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {**_TEXT, "description": "The latest C2SP signed-note checkpoint."}},
    summary="Latest signed checkpoint",
)
def latest_checkpoint(bank: BankDep) -> PlainTextResponse:
    return PlainTextResponse(bank.log.latest_checkpoint().note)


@router.get(
    "/checkpoints/{tree_size}",
    response_class=PlainTextResponse,
    responses={200: {**_TEXT, "description": "The checkpoint signed at that tree size."}},
    summary="The signed checkpoint of an earlier tree size",
)
def checkpoint_at(
    bank: BankDep, tree_size: Annotated[int, Path(ge=0, le=MAX_TREE_SIZE), DIGITS_ONLY]
) -> PlainTextResponse:
    found = bank.log.store.checkpoint_at(tree_size)
    if found is None:
        raise NotFoundError(f"no checkpoint was signed at tree size {tree_size}")
    return PlainTextResponse(found.note)


@router.get(
    "/key",
    response_class=PlainTextResponse,
    responses={200: {**_TEXT, "description": "name+hex8+base64(0x01||pubkey)"}},
    summary="The log's signed-note verifier key",
)
def verifier_key(bank: BankDep) -> PlainTextResponse:
    return PlainTextResponse(bank.log.verifier.vkey + "\n")


@router.get("/entries/{index}", summary="One entry (leaf object and leaf hash)")
def entry(
    bank: BankDep, index: Annotated[int, Path(ge=0, le=MAX_INDEX), DIGITS_ONLY]
) -> LogEntryPublic:
    return _entry(index, bank.log.leaf(index))


@router.get("/entries", summary="A page of entries, in index order")
def entries(
    bank: BankDep,
    config: ConfigDep,
    start: Annotated[int, Query(ge=0, le=MAX_INDEX), DIGITS_ONLY] = 0,
    limit: Annotated[
        int | None,
        Query(ge=1, le=MAX_TREE_SIZE, description="At most the server's page limit"),
        DIGITS_ONLY,
    ] = None,
) -> LogEntriesPage:
    size = bank.log.latest_checkpoint().tree_size
    count = min(limit or config.page_size, config.max_page_size)
    end = min(start + count, size)
    leaves = bank.log.leaves(start, end) if start < end else []
    return LogEntriesPage(
        start=start,
        tree_size=size,
        entries=[_entry(index, leaf) for index, leaf in leaves],
        next=end if end < size else None,
    )


@router.get("/proof/inclusion", summary="RFC 9162 inclusion proof of an entry")
def inclusion_proof(
    bank: BankDep,
    index: Annotated[int, Query(ge=0, le=MAX_INDEX), DIGITS_ONLY],
    tree_size: Annotated[
        int | None,
        Query(ge=1, le=MAX_TREE_SIZE, description="Defaults to the latest checkpoint's size"),
        DIGITS_ONLY,
    ] = None,
) -> InclusionProofPublic:
    size = tree_size if tree_size is not None else bank.log.latest_checkpoint().tree_size
    hashes = bank.log.inclusion_proof(index, size)
    return InclusionProofPublic(index=index, tree_size=size, hashes=[_b64(h) for h in hashes])


@router.get("/proof/consistency", summary="RFC 9162 consistency proof between two tree sizes")
def consistency_proof(
    bank: BankDep,
    first: TreeSize,
    second: Annotated[
        int | None,
        Query(ge=0, le=MAX_TREE_SIZE, description="Defaults to the latest checkpoint's size"),
        DIGITS_ONLY,
    ] = None,
) -> ConsistencyProofPublic:
    size = second if second is not None else bank.log.latest_checkpoint().tree_size
    hashes = bank.log.consistency_proof(first, size)
    return ConsistencyProofPublic(first=first, second=size, hashes=[_b64(h) for h in hashes])
