"""The worker's credential on the page: downloads (JSON, PDF) and a share link with its QR code.

Who may: the same as the worker page (that learner, registrars); everyone else gets the 404 page,
so one learner can never see or make another's share link. A share link names a credential's
random UUID, which is the secret that opens it publicly; it is made only when someone who may asks
(a POST form with the CSRF token), never as a side effect of opening the worker page. The QR code
is an inline SVG drawn on the server (segno), so the page loads nothing from elsewhere.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from creditbank.credentials.issuance import IssuedCredential, issue_credential
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.errors import NotFoundError
from creditbank.web.page import Page, PageDep
from creditbank.web.routes.worker import may_read

__all__ = ["issuer_of", "qr_svg", "router"]

router = APIRouter(include_in_schema=False)

LearnerId = Annotated[str, Path(min_length=1, max_length=128)]


def issuer_of(page: Page) -> CredentialIssuer | None:
    """The app's credential issuer, or None when this server issues no credentials."""
    issuer: CredentialIssuer | None = getattr(page.request.app.state, "credential_issuer", None)
    return issuer


def qr_svg(url: str, label: str) -> Markup:
    """The QR code of ``url`` as inline SVG markup (no XML declaration, labelled for readers)."""
    svg = segno.make(url, error="m").svg_inline(
        scale=4, border=2, title=label, svgclass="qr", lineclass=None
    )
    return Markup(svg)  # noqa: S704 - segno escapes the title; the rest is its own markup


def _issue(page: Page, learner_id: str) -> IssuedCredential | None:
    """The learner's current credential (issued now if nothing current exists), or None."""
    issuer = issuer_of(page)
    if issuer is None or not may_read(page, learner_id):
        return None
    bank = page.web.bank
    try:
        return issue_credential(bank, issuer, learner_id, include_name=False, now=bank.clock())
    except NotFoundError:
        return None


@router.get("/learners/{learner_id}/credential.json")
def credential_download(page: PageDep, learner_id: LearnerId) -> Response:
    issued = _issue(page, learner_id)
    if issued is None:
        return page.not_found()
    return page.finish(
        JSONResponse(
            issued.document,
            media_type="application/vc",
            headers={"Content-Disposition": f'attachment; filename="credential-{learner_id}.json"'},
        )
    )


@router.get("/learners/{learner_id}/credential.pdf")
def credential_pdf(page: PageDep, learner_id: LearnerId) -> Response:
    issued = _issue(page, learner_id)
    issuer = issuer_of(page)
    if issued is None or issuer is None:
        return page.not_found()
    # Imported on first use: fpdf2 and its image libraries are about 40 MB a server worker
    # would otherwise carry from start, whether or not it ever renders a PDF.
    from creditbank.credentials.pdf import render_credential_pdf

    pdf = render_credential_pdf(
        issued.document, verify_url=issuer.verify_page_url(issued.credential_uuid)
    )
    return page.finish(
        Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="credential-{learner_id}.pdf"'},
        )
    )


@router.post("/learners/{learner_id}/credential/share")
async def share_credential(page: PageDep, request: Request, learner_id: LearnerId) -> Response:
    form = await request.form()
    if not may_read(page, learner_id):
        return page.not_found()
    if not page.csrf_ok(form):
        return page.forbidden()
    issued = _issue(page, learner_id)
    issuer = issuer_of(page)
    if issued is None or issuer is None:
        return page.not_found()
    link = issuer.verify_page_url(issued.credential_uuid)
    return page.render(
        "credential_share.html",
        learner_id=learner_id,
        share_link=link,
        qr=qr_svg(link, page._("QR code of the share link")),
    )
