"""Many signed entries from a page at once: the bulk imports' write path and their resume check.

``POST /web/batch`` takes exactly what ``POST /v1/batch`` takes (signed entries, each with the
identity of a learner registration) and ``POST /web/imports/known-nonces`` what
``POST /v1/imports/known-nonces`` takes; both check the session, the CSRF header (``X-CSRF-Token``
equal to the CSRF cookie) and the origin, then call the API's own functions: the batch is appended
all together or not at all, a refusal names its ``item``, and the known nonces are only the
signed-in actor's own. So a page's import is idempotent and resumable exactly like the CLI's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from creditbank.accounts.cohorts import known_nonces
from creditbank.accounts.identity import Identity
from creditbank.accounts.tokens import Principal
from creditbank.api.routes.batch import BatchIn
from creditbank.api.routes.imports import KnownNoncesIn
from creditbank.api.submission import WriterDep, submit_batch
from creditbank.errors import InputError, NotFoundError, PermissionDenied
from creditbank.web.page import Page, PageDep
from creditbank.web.routes.registrar import WEB_WRITES

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_SIGNERS = ("admin", "provider", "registrar")


def _signer(page: Page, request: Request) -> Principal:
    """The signed-in actor, if the request came from this site's pages."""
    if not page.csrf_ok({"csrf_token": request.headers.get("x-csrf-token")}):
        raise PermissionDenied("the request did not come from this site's pages (CSRF check)")
    user = page.principal
    if user is None or user.role not in _SIGNERS or user.actor_id is None:
        raise NotFoundError("sign in as a registrar, provider or admin first")
    return user


@router.post("/web/batch")
async def post_batch(page: PageDep, request: Request, writer: WriterDep) -> Response:
    principal = _signer(page, request)
    try:
        payload = BatchIn.model_validate(await request.json())
    except (ValidationError, ValueError) as exc:
        raise InputError(f"not a batch of signed entries: {exc}") from None
    for item in payload.entries:
        if item.entry.entry.type not in WEB_WRITES:
            raise InputError(f"the pages do not post {item.entry.entry.type or 'this'} entries")
    items = [
        (
            item.entry,
            None
            if item.identity is None
            else Identity(
                name=item.identity.name, id_number=item.identity.id_number, salt=item.identity.salt
            ),
        )
        for item in payload.entries
    ]
    receipts = await submit_batch(writer, principal, items)
    return JSONResponse(
        {"receipts": [receipt.model_dump(mode="json") for receipt in receipts]}, status_code=201
    )


@router.post("/web/imports/known-nonces")
async def post_known_nonces(page: PageDep, request: Request) -> Response:
    principal = _signer(page, request)
    try:
        payload = KnownNoncesIn.model_validate(await request.json())
    except (ValidationError, ValueError) as exc:
        raise InputError(f"not a list of nonces: {exc}") from None
    assert principal.actor_id is not None  # checked by _signer
    found = known_nonces(page.web.bank.engine, principal.actor_id, payload.nonces)
    return JSONResponse({"known": sorted(found)})
