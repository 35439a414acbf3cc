"""Sign-in (form and one-time links), sign-out (here or everywhere), and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from creditbank.errors import AuthenticationError
from creditbank.web.config import LANGUAGES
from creditbank.web.page import LANG_COOKIE, SESSION_COOKIE, Page, PageDep, safe_next, set_cookie
from creditbank.web.signin import SignedIn

router = APIRouter(include_in_schema=False)


def home_of(signed: SignedIn) -> str:
    principal = signed.principal
    if principal.role == "learner":
        return f"/learners/{principal.learner_id}"
    if principal.role == "registrar":
        return "/registrar"
    if principal.role == "provider":
        return "/provider"
    if principal.role == "admin":
        return "/admin"
    return "/"


def _start_session(page: Page, signed: SignedIn, target: str | None) -> Response:
    if page.session_id is not None:
        page.web.sessions.close(page.session_id)
    session_id = page.web.sessions.open(signed.principal, signed.credential)
    response = RedirectResponse(safe_next(target, home_of(signed)), status_code=303)
    set_cookie(
        page.request,
        response,
        SESSION_COOKIE,
        session_id,
        max_age=int(page.web.config.session_lifetime.total_seconds()),
    )
    return page.finish(response)


@router.get("/sign-in")
def sign_in_form(page: PageDep, next: str | None = None) -> Response:
    return page.render("sign_in.html", next=safe_next(next, ""), error=None)


@router.post("/sign-in")
async def sign_in(page: PageDep, request: Request) -> Response:
    form = await request.form()
    if not page.csrf_ok(form):
        return page.forbidden()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    try:
        signed = page.web.signin.sign_in(fields)
    except AuthenticationError:
        return page.render(
            "sign_in.html",
            status=401,
            next=safe_next(fields.get("next"), ""),
            error=page._("This token is unknown or has been revoked."),
        )
    return _start_session(page, signed, fields.get("next"))


@router.get("/sign-in/link/{code}")
def sign_in_link(page: PageDep, code: str) -> Response:
    """Show a button; only the POST uses the code (link previewers must not spend it)."""
    return page.render("sign_in_link.html", code=code)


@router.post("/sign-in/link/{code}")
async def use_sign_in_link(page: PageDep, request: Request, code: str) -> Response:
    form = await request.form()
    if not page.csrf_ok(form):
        return page.forbidden()
    token_hash = page.web.codes.redeem(code)
    try:
        if token_hash is None:
            raise AuthenticationError("unknown, used or expired code")
        signed = page.web.signin.by_token_hash(token_hash)
    except AuthenticationError:
        return page.render(
            "sign_in.html",
            status=401,
            next="",
            error=page._("This sign-in link has expired or has already been used."),
        )
    return _start_session(page, signed, None)


@router.post("/sign-out")
async def sign_out(page: PageDep, request: Request) -> Response:
    form = await request.form()
    if not page.csrf_ok(form):
        return page.forbidden()
    if page.session_id is not None:
        if form.get("everywhere") == "1" and page.principal is not None:
            page.web.sessions.close_everywhere(page.principal)
        else:
            page.web.sessions.close(page.session_id)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return page.finish(response)


@router.post("/language")
async def switch_language(page: PageDep, request: Request) -> Response:
    form = await request.form()
    if not page.csrf_ok(form):
        return page.forbidden()
    language = form.get("language")
    response = RedirectResponse(safe_next(str(form.get("next") or "/")), status_code=303)
    if isinstance(language, str) and language in LANGUAGES:
        set_cookie(request, response, LANG_COOKIE, language, max_age=365 * 24 * 3600)
    return page.finish(response)
