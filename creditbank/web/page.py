"""One request's page context: language, signed-in principal, CSRF token; and rendering.

CSRF: every POST form carries ``csrf_token``, which must equal the ``cb_csrf`` cookie (random,
HttpOnly, SameSite=Strict), and a request whose ``Origin`` header names another origin is refused.
A cross-site page can neither read the cookie nor make the browser send it (SameSite=Strict), so
it cannot produce a matching pair. GET forms (search, what-if) change nothing and carry no token.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response

from creditbank.accounts.kinds import REASON_CODES
from creditbank.accounts.tokens import Principal
from creditbank.web.config import LANGUAGES
from creditbank.web.i18n import Translations, html_lang
from creditbank.web.state import WebState

__all__ = [
    "CSRF_COOKIE",
    "LANG_COOKIE",
    "SESSION_COOKIE",
    "Page",
    "PageDep",
    "get_page",
    "safe_next",
    "set_cookie",
]

_R = TypeVar("_R", bound=Response)

SESSION_COOKIE = "cb_session"
CSRF_COOKIE = "cb_csrf"
LANG_COOKIE = "cb_lang"

#: Every page is same-origin only: no script, style, font, image or connection elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to (never another site: ``//host`` and ``scheme:`` are refused)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def set_cookie(request: Request, response: Response, name: str, value: str, **extra: Any) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
        **extra,
    )


@dataclass
class Page:
    request: Request
    web: WebState
    language: str
    principal: Principal | None
    session_id: str | None
    csrf_token: str
    new_csrf: bool
    extra_cookies: dict[str, str] = field(default_factory=dict)

    @property
    def t(self) -> Translations:
        return self.web.translations[self.language]

    def _(self, message: str) -> str:
        return self.t.gettext(message)

    def csrf_ok(self, form: Mapping[str, Any]) -> bool:
        """The posted token matches the cookie, and the request is not from another origin."""
        posted = form.get("csrf_token")
        cookie = self.request.cookies.get(CSRF_COOKIE)
        if not isinstance(posted, str) or not cookie or not secrets.compare_digest(posted, cookie):
            return False
        origin = self.request.headers.get("origin")
        own = f"{self.request.url.scheme}://{self.request.url.netloc}"
        return origin is None or origin == own

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.web.templates.get_template(template).render(
            _=self._,
            lang=self.language,
            html_lang=html_lang(self.language),
            languages=LANGUAGES,
            reason_codes=REASON_CODES,
            user=self.principal,
            csrf_token=self.csrf_token,
            path=self.request.url.path,
            here=str(self.request.url.path)
            + (f"?{self.request.url.query}" if self.request.url.query else ""),
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        return self.finish(response)

    def finish(self, response: _R) -> _R:
        if self.new_csrf:
            set_cookie(self.request, response, CSRF_COOKIE, self.csrf_token)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    def not_found(self) -> HTMLResponse:
        return self.render(
            "error.html",
            status=404,
            title=self._("Page not found"),
            message=self._("There is no such page, or it is not yours to see."),
        )

    def forbidden(self, message: str | None = None) -> HTMLResponse:
        return self.render(
            "error.html",
            status=403,
            title=self._("Refused"),
            message=message
            or self._(
                "This form was not sent from this site, "
                "or the page is too old. Reload it and try again."
            ),
        )


def get_page(request: Request) -> Page:
    web: WebState = request.app.state.web
    language = request.cookies.get(LANG_COOKIE, "")
    if language not in LANGUAGES:
        language = web.config.default_language
    principal = None
    session_id = request.cookies.get(SESSION_COOKIE) or None
    if session_id is not None:
        found = web.sessions.find(session_id)
        principal = web.signin.still_valid(found.credential) if found is not None else None
        if principal is None:
            session_id = None
    csrf = request.cookies.get(CSRF_COOKIE) or ""
    new_csrf = len(csrf) < 32
    if new_csrf:
        csrf = secrets.token_urlsafe(32)
    return Page(request, web, language, principal, session_id, csrf, new_csrf)


PageDep = Annotated[Page, Depends(get_page)]
