"""Credentials: a learner's W3C VC 2.0 credential (JSON and PDF), its public share URL, the status
lists and the bank's ``did:web`` document.

The learner (or a registrar) asks for the credential; only the learner may ask for their name to be
included. The share URL, the status lists and ``/.well-known/did.json`` are public: a credential's
id is a random UUID the learner chooses to hand out, and status lists reveal only bits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from creditbank.accounts.tokens import Principal
from creditbank.api.deps import BankDep, PrincipalDep, readable_learner
from creditbank.api.errors import problem_responses
from creditbank.credentials.issuance import (
    IssuedCredential,
    issue_credential,
    shared_credential,
    signed_status_list,
)
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.errors import NotFoundError, PermissionDenied

__all__ = ["CREDENTIAL_MEDIA_TYPE", "get_issuer", "router"]

#: W3C VC 2.0 media type of a credential secured with an embedded proof.
CREDENTIAL_MEDIA_TYPE = "application/vc"

router = APIRouter(responses=problem_responses(404, 422))

_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def get_issuer(request: Request) -> CredentialIssuer:
    issuer: CredentialIssuer | None = getattr(request.app.state, "credential_issuer", None)
    if issuer is None:
        raise NotFoundError(
            "this server issues no credentials: it has no credential-issuing key "
            "(CREDITBANK_CREDENTIAL_KEY_FILE; `creditbank init` creates one)"
        )
    return issuer


IssuerDep = Annotated[CredentialIssuer, Depends(get_issuer)]
ReadableLearner = Annotated[str, Depends(readable_learner)]
IncludeName = Annotated[
    bool, Query(description="Add the learner's name (only the learner may ask; default: no)")
]


def _issue(
    bank: BankDep,
    issuer: CredentialIssuer,
    learner_id: str,
    principal: Principal,
    include_name: bool,
) -> IssuedCredential:
    if include_name and principal.role != "learner":
        raise PermissionDenied("only the learner may include their name in a credential")
    return issue_credential(bank, issuer, learner_id, include_name=include_name, now=bank.clock())


def _vc(document: dict[str, Any]) -> JSONResponse:
    return JSONResponse(document, media_type=CREDENTIAL_MEDIA_TYPE)


@router.get(
    "/v1/learners/{learner_id}/credential",
    tags=["learner"],
    summary="The learner's record as a signed W3C VC 2.0 (CLR 2.0 ClrCredential)",
    responses={
        **problem_responses(401, 403),
        200: {"content": {CREDENTIAL_MEDIA_TYPE: {}}, "description": "The credential"},
    },
    response_class=JSONResponse,
)
def learner_credential(
    bank: BankDep,
    issuer: IssuerDep,
    learner_id: ReadableLearner,
    principal: PrincipalDep,
    include_name: IncludeName = False,
) -> JSONResponse:
    issued = _issue(bank, issuer, learner_id, principal, include_name)
    response = _vc(issued.document)
    response.headers["Link"] = f'<{issuer.share_url(issued.credential_uuid)}>; rel="share"'
    return response


@router.get(
    "/v1/learners/{learner_id}/credential.pdf",
    tags=["learner"],
    summary="The credential on A4 paper: Chinese with English labels, a QR code, the JSON attached",
    responses={
        **problem_responses(401, 403),
        200: {"content": {"application/pdf": {}}, "description": "The PDF"},
    },
    response_class=Response,
)
def learner_credential_pdf(
    bank: BankDep,
    issuer: IssuerDep,
    learner_id: ReadableLearner,
    principal: PrincipalDep,
    include_name: IncludeName = False,
) -> Response:
    issued = _issue(bank, issuer, learner_id, principal, include_name)
    # Imported on first use: fpdf2 and its image libraries are about 40 MB a server worker
    # would otherwise carry from start, whether or not it ever renders a PDF.
    from creditbank.credentials.pdf import render_credential_pdf

    pdf = render_credential_pdf(
        issued.document, verify_url=issuer.verify_page_url(issued.credential_uuid)
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="credential.pdf"'},
    )


@router.get(
    "/v1/credentials/{credential_id}",
    tags=["public credentials"],
    summary="A shared credential, exactly as signed (public: its random id is the secret)",
    responses={200: {"content": {CREDENTIAL_MEDIA_TYPE: {}}, "description": "The credential"}},
    response_class=JSONResponse,
)
def shared(
    bank: BankDep, credential_id: Annotated[str, Path(pattern=_UUID, max_length=36)]
) -> JSONResponse:
    response = _vc(shared_credential(bank, credential_id, now=bank.clock()))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@router.get(
    "/v1/status-lists/{list_number}",
    tags=["public credentials"],
    summary="A signed BitstringStatusListCredential (revocation)",
    responses={200: {"content": {CREDENTIAL_MEDIA_TYPE: {}}, "description": "The status list"}},
    response_class=JSONResponse,
)
def status_list(
    bank: BankDep,
    issuer: IssuerDep,
    list_number: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> JSONResponse:
    response = _vc(signed_status_list(bank, issuer, list_number, now=bank.clock()))
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get(
    "/.well-known/did.json",
    tags=["public credentials"],
    summary="The bank's did:web document: its credential-issuing keys (assertionMethod)",
)
def did_document(issuer: IssuerDep) -> dict[str, Any]:
    return issuer.did_document()
