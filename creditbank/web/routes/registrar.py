"""Registrar pages: find a learner, plan a conversion and post it, reverse one, record credits.

Writes are signed in the browser (``static/js/sign.js``): the page describes the entry in words,
the registrar's key file is opened in the browser, and only the signed entry reaches
``POST /web/entries``, which checks the session and the CSRF header and then takes exactly the
API's write path (:func:`creditbank.api.submission.submit_signed`: signature, key, role, rules,
group commit). Anyone but a registrar gets the 404 page.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from creditbank.accounts.identity import Identity
from creditbank.accounts.kinds import KINDS
from creditbank.api.schemas import LearnerRegistrationIn, SignedEntryIn
from creditbank.api.submission import WriterDep, submit_signed
from creditbank.errors import (
    CreditbankError,
    InputError,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
)
from creditbank.mapping import Plan
from creditbank.web.page import Page, PageDep
from creditbank.web.plan_text import plan_json

router = APIRouter(include_in_schema=False)

#: Entry types the pages may post (the bank still checks the signer's role for each).
WEB_WRITES = {
    "actor.registered",
    "actor.key_added",
    "learner.registered",
    "conversion.posted",
    "conversion.reversed",
    "credit.earned",
    "certificate.issued",
    "certificate.revoked",
    "mapping.registered",
    "mapping.retired",
}


def _registrar(page: Page) -> bool:
    return page.principal is not None and page.principal.role == "registrar"


def _form_context(page: Page) -> dict[str, Any]:
    return {
        "actor": page.principal.actor_id if page.principal else "",
        "programmes": page.web.bank.programmes,
        "today": page.web.today().isoformat(),
    }


@router.get("/registrar")
def registrar_home(
    page: PageDep, learner_id: Annotated[str, Query(max_length=128)] = ""
) -> Response:
    if not _registrar(page):
        return page.not_found()
    learner_id = learner_id.strip()
    if learner_id:
        try:
            page.web.bank.balance(learner_id)
        except NotFoundError:
            return page.render(
                "registrar.html", missing=learner_id, **_form_context(page), learner_id=learner_id
            )
        return RedirectResponse(f"/learners/{learner_id}", status_code=303)
    return page.render("registrar.html", missing=None, learner_id="", **_form_context(page))


def _conversion_body(plan: Plan, learner_id: str, conversion_id: str) -> dict[str, Any]:
    return {
        "v": 1,
        "conversion_id": conversion_id,
        "learner_id": learner_id,
        "programme_code": plan.programme_code,
        "as_of": plan.as_of.isoformat(),
        "recognitions": [
            {
                "course_code": r.course.course_code,
                "credits": r.to_json()["credits"],
                "mapping_id": r.mapping_id,
                "sources": list(r.source_holding_ids),
            }
            for r in plan.recognitions
            if not r.what_if
        ],
    }


@router.get("/registrar/plan")
def plan_page(
    page: PageDep,
    learner_id: Annotated[str, Query(min_length=1, max_length=128)],
    programme: Annotated[str, Query(min_length=1, max_length=64)],
) -> Response:
    if not _registrar(page):
        return page.not_found()
    # The ledger's rules date a conversion by the log's clock (UTC), so the plan posted uses that
    # day; a plan dated by the local day would be refused as "in the future" after 16:00 UTC.
    as_of = page.web.bank.clock().date()
    try:
        plan = page.web.bank.plan_for(learner_id.strip(), programme, as_of)
    except NotFoundError:
        return page.not_found()
    except CreditbankError as exc:
        return page.render("error.html", status=422, title=page._("Refused"), message=str(exc))
    conversion_id = f"CV-{as_of:%Y%m%d}-{secrets.token_hex(4).upper()}"
    body = _conversion_body(plan, learner_id.strip(), conversion_id)
    title = next((p.title for p in page.web.bank.programmes if p.code == programme), programme)
    return page.render(
        "registrar_plan.html",
        plan=plan_json(plan, page.t),
        title=title,
        learner_id=learner_id.strip(),
        conversion_id=conversion_id,
        body_json=json.dumps(body, ensure_ascii=False),
        postable=bool(body["recognitions"]),
        **_form_context(page),
    )


@router.post("/web/entries")
async def post_entry(page: PageDep, request: Request, writer: WriterDep) -> Response:
    """A signed entry from a page: session and CSRF header checked, then the API's write path."""
    if not page.csrf_ok({"csrf_token": request.headers.get("x-csrf-token")}):
        raise PermissionDenied("the request did not come from this site's pages (CSRF check)")
    if page.principal is None:
        raise NotFoundError("sign in first")
    try:
        raw = await request.json()
        registering = isinstance(raw, dict) and "identity" in raw
        payload = (LearnerRegistrationIn if registering else SignedEntryIn).model_validate(raw)
    except ValueError as exc:
        raise InputError(f"not a signed entry: {exc}") from None
    entry_type = payload.entry.type
    if entry_type not in WEB_WRITES:
        raise InputError(f"the pages do not post {entry_type or 'this'} entries")
    identity = (
        Identity(
            name=payload.identity.name,
            id_number=payload.identity.id_number,
            salt=payload.identity.salt,
        )
        if isinstance(payload, LearnerRegistrationIn)
        else None
    )
    kind = KINDS[entry_type]
    # The pages post every kind here; the kind's own route would carry these ids in its path.
    body = payload.entry.body if isinstance(payload.entry.body, dict) else {}
    path = {name: str(body.get(name, "")) for name in kind.path_fields}
    try:
        receipt = await submit_signed(
            writer, page.principal, payload, kind=kind, path=path, identity=identity
        )
    except RuleViolation as exc:
        # The planner's rules say why in a sentence the page can translate (the API says English).
        if exc.sentence is None:
            raise
        raise RuleViolation(exc.sentence.render(page.t.gettext), code=exc.code) from None
    return JSONResponse(receipt.model_dump(mode="json"), status_code=201)
