"""Admin pages: actors and their keys, API tokens (issue, revoke), register an actor; the audit.

The audit table (``/admin/audit``, newest first, paged) shows who issued or revoked a token, who
read a learner's account as admin and who searched the identity store, as ``GET /v1/admin/audit``
does; the table itself holds no name or ID number, so neither does the page.

Tokens are not log entries: issuing and revoking them are server-side actions of a signed-in admin,
through POST forms with the CSRF token; a new token is shown once and only its hash is kept.
Registering an actor is a log entry, signed in the browser with the admin's key like every write.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select

from creditbank.accounts.admin_audit import audit_count, audit_events
from creditbank.accounts.tables import ActorKeyRow, ActorRow, TokenRow
from creditbank.errors import CreditbankError
from creditbank.web.page import Page, PageDep

router = APIRouter(include_in_schema=False)

_TOKENS_SHOWN = 200
_AUDIT_PAGE = 50


def _admin(page: Page) -> bool:
    return page.principal is not None and page.principal.role == "admin"


def _render(page: Page, *, new_token: str | None = None, error: str | None = None) -> Response:
    with Session(page.web.bank.engine) as session:
        actors = list(session.exec(select(ActorRow).order_by(col(ActorRow.registered_index))))
        keys = list(session.exec(select(ActorKeyRow).order_by(col(ActorKeyRow.added_index))))
        tokens = list(
            session.exec(
                select(TokenRow).order_by(col(TokenRow.created_at).desc()).limit(_TOKENS_SHOWN)
            )
        )
    by_actor: dict[str, list[ActorKeyRow]] = {}
    for key in keys:
        by_actor.setdefault(key.actor_id, []).append(key)
    return page.render(
        "admin.html",
        actors=actors,
        keys=by_actor,
        tokens=tokens,
        new_token=new_token,
        error=error,
        actor=page.principal.actor_id if page.principal else "",
    )


@router.get("/admin")
def admin_home(page: PageDep) -> Response:
    if not _admin(page):
        return page.not_found()
    return _render(page)


@router.post("/admin/tokens")
async def issue_token(page: PageDep, request: Request) -> Response:
    if not _admin(page):
        return page.not_found()
    form = await request.form()
    if not page.csrf_ok(form):
        return page.forbidden()
    subject = str(form.get("subject") or "").strip()
    label = str(form.get("label") or "").strip()[:200]
    kind = form.get("kind")
    try:
        token = page.web.bank.issue_token(
            actor_id=subject if kind == "actor" else None,
            learner_id=subject if kind == "learner" else None,
            label=label,
            by=page.principal,  # recorded in the audit table, as the API's token route does
        )
    except CreditbankError as exc:
        return _render(page, error=str(exc))
    return _render(page, new_token=token)


@router.post("/admin/tokens/revoke")
async def revoke_token(page: PageDep, request: Request) -> Response:
    if not _admin(page):
        return page.not_found()
    form = await request.form()
    if not page.csrf_ok(form):
        return page.forbidden()
    try:
        page.web.bank.revoke_token(str(form.get("token_hash") or ""), by=page.principal)
    except CreditbankError as exc:
        return _render(page, error=str(exc))
    return _render(page)


@router.get("/admin/audit")
def audit_page(page: PageDep, number: Annotated[int, Query(alias="page", ge=1)] = 1) -> Response:
    """The audit table, newest first, ``_AUDIT_PAGE`` rows a page."""
    if not _admin(page):
        return page.not_found()
    with Session(page.web.bank.engine) as session:
        total = audit_count(session)
        events = audit_events(
            session, offset=(number - 1) * _AUDIT_PAGE, limit=_AUDIT_PAGE, newest_first=True
        )
    pages = max(1, -(-total // _AUDIT_PAGE))
    return page.render(
        "admin_audit.html",
        events=events,
        total=total,
        number=number,
        pages=pages,
        newer=number - 1 if number > 1 else None,
        older=number + 1 if number < pages else None,
    )
