"""``GET /v1/admin/audit``: the admins' own trace (token issue and revoke), for admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from creditbank.accounts.admin_audit import audit_events
from creditbank.accounts.tokens import Principal
from creditbank.api.deps import BankDep, PageDep, require_roles
from creditbank.api.errors import problem_responses

__all__ = ["AuditEventPublic", "router"]

router = APIRouter(tags=["admin"], responses=problem_responses(401, 403, 422))


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: str
    by: str
    role: str
    action: str
    subject: str
    detail: str


@router.get("/v1/admin/audit", summary="Who issued and revoked which tokens, oldest first")
def read_audit(
    bank: BankDep,
    _admin: Annotated[Principal, Depends(require_roles("admin"))],
    page: PageDep,
) -> list[AuditEventPublic]:
    """Append-only: the database refuses to change or delete a row of this table."""
    with Session(bank.engine) as session:
        events = audit_events(session, offset=page.offset, limit=page.limit)
    return [AuditEventPublic.model_validate(e, from_attributes=True) for e in events]
