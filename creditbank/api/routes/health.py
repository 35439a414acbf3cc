"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from creditbank.api.deps import BankDep
from creditbank.errors import CreditbankError

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    """No I/O, so no threadpool hop: the benchmarks use it as the framework's floor."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The ledger database answers and the log has a signed checkpoint",
    responses={503: {"description": "Not ready: the reason is in `detail`"}},
)
def readyz(bank: BankDep) -> Any:
    try:
        checkpoint = bank.log.latest_checkpoint()
        bank.log.verifier  # noqa: B018 - the log key is loaded (writes can be signed)
    except CreditbankError as exc:
        return JSONResponse({"status": "not ready", "detail": str(exc)}, status_code=503)
    return {"status": "ready", "tree_size": checkpoint.tree_size}
