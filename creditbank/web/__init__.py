"""The web app: server-rendered pages (Jinja2, Babel catalogs) on the API's FastAPI app.

:func:`install_web` adds the pages, the static assets and a ``/docs`` whose Swagger UI assets are
served locally; :func:`signin_link` makes a one-time sign-in link for a bearer token (what
``creditbank demo`` prints per account). See ``docs/web.md``.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.tokens import hash_token
from creditbank.web.config import WebConfig
from creditbank.web.sessions import SignInCodes
from creditbank.web.state import STATIC_DIR, WebState

__all__ = ["WebConfig", "install_web", "signin_link"]

_SWAGGER_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"


def _not_docs(route: BaseRoute) -> bool:
    return getattr(route, "path", None) not in ("/docs", "/docs/oauth2-redirect", "/redoc")


def install_web(app: FastAPI, config: WebConfig | None = None) -> None:
    """Serve the pages of ``app.state.bank`` on ``app`` (replacing FastAPI's CDN-based /docs)."""
    # Imported here: the write route reuses the API's write path, and the API's app imports this
    # package, so a module-level import would be circular when ``creditbank.web`` comes first.
    from creditbank.web.routes import (
        admin,
        auth,
        batch,
        credential,
        docs,
        imports,
        keys,
        learner_search,
        provider,
        public,
        registrar,
        reports,
        worker,
    )

    state = WebState.build(app.state.bank, config or WebConfig.from_env())
    app.state.web = state
    app.router.routes[:] = [route for route in app.router.routes if _not_docs(route)]
    app.mount("/static/swagger", StaticFiles(directory=_SWAGGER_DIR), name="swagger-static")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    for module in (
        docs,
        auth,
        public,
        worker,
        credential,
        registrar,
        learner_search,
        provider,
        imports,
        batch,
        reports,
        admin,
        keys,
    ):
        app.include_router(module.router)


def signin_link(
    bank: CreditBank, token: str, base_url: str, config: WebConfig | None = None
) -> str:
    """A one-time sign-in link for ``token``'s account (works once, for 15 minutes by default).

    The link carries a random code, never the token; the code stands for the token's hash, so
    revoking the token also kills its unused links.
    """
    bank.authenticate(token)  # refuse to make a link for an unknown or revoked token
    lifetime = (config or WebConfig()).link_lifetime
    code = SignInCodes(bank.engine, bank.clock, lifetime).issue(hash_token(token))
    return f"{base_url.rstrip('/')}/sign-in/link/{code}"
