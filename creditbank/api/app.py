"""The FastAPI application: :func:`create_app` over a :class:`CreditBank` you already have.

``create_app(bank)`` is what tests and ``creditbank demo`` use; :func:`create_app_from_settings`
is what ``creditbank serve`` (and ``uvicorn --factory creditbank.api.app:create_app_from_settings``)
use: it reads :class:`~creditbank.config.Settings` once, opens the database, the log and its key,
and closes them when the server stops.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.wiring import BankConfig, open_bank, shipped_data_dir
from creditbank.api.config import ApiConfig
from creditbank.api.errors import install_problem_handlers
from creditbank.api.limits import BodyLimitMiddleware
from creditbank.api.routes import (
    actors,
    catalogue,
    certificates,
    conversions,
    credits,
    health,
    learners,
    log,
    mappings,
)
from creditbank.config import Settings

__all__ = ["API_DESCRIPTION", "create_app", "create_app_from_settings"]

API_DESCRIPTION = """\
A verifiable ledger of vocational certificates and course credits (dual-certificate integration,
双证融通).

* **Public, no token**: the log (`/v1/log/...`: checkpoint, verifier key, entries, RFC 9162 proofs)
  and the catalogue (`/v1/catalogue/...`).
* **Writes** are signed ledger entries, `{"entry": {...}, "signature": {...}}`, signed with the
  actor's Ed25519 key over `creditbank-entry/v1\\n` || RFC 8785 bytes of `entry`, and sent with
  the actor's bearer token. The entry's nonce is its idempotency key: a byte-identical retry answers
  the original receipt.
* **Errors** are RFC 9457 `application/problem+json` with a stable `type` URI.

Roles: `admin` (actors, keys, tokens), `provider` (mappings, certificates), `registrar` (learners,
credits, conversions, plans), `learner` (their own account).
"""

_TAGS = [
    {"name": "public log", "description": "Checkpoints, entries and proofs for any verifier."},
    {"name": "catalogue", "description": "Programmes, courses, qualifications and mappings."},
    {"name": "admin", "description": "Actors, their keys, and bearer tokens."},
    {"name": "provider", "description": "Training providers: mappings and certificates."},
    {"name": "registrar", "description": "Learners, earned credits, conversions."},
    {"name": "learner", "description": "A learner's own account (registrars read any)."},
    {"name": "health", "description": "Probes."},
]


def create_app(
    bank: CreditBank,
    *,
    config: ApiConfig | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """The API over ``bank``. Everything the routes need is passed in here, nothing is global."""
    config = config or ApiConfig()
    app = FastAPI(
        title="creditbank",
        version="1",
        description=API_DESCRIPTION,
        openapi_tags=_TAGS,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.bank = bank
    app.state.config = config
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=config.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(config.cors_origins),
        allow_credentials=False,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Location", "Idempotency-Replayed"],
        max_age=600,
    )
    for module in (health, log, catalogue, actors, mappings, certificates, learners, credits):
        app.include_router(module.router)
    app.include_router(conversions.router)
    return app


def create_app_from_settings(settings: Settings | None = None) -> FastAPI:
    """Open the bank named by the environment and serve it; close it when the server stops."""
    settings = settings or Settings()
    passphrase = settings.log_key_passphrase
    bank_config = BankConfig(
        database_url=settings.database_url,
        log_key_file=settings.log_key_file,
        log_key_passphrase=passphrase.get_secret_value().encode() if passphrase else None,
        origin=settings.origin,
        data_dir=settings.data_dir or shipped_data_dir(),
    )
    stack = ExitStack()
    bank = stack.enter_context(open_bank(bank_config))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with stack:
            yield

    return create_app(bank, lifespan=lifespan)
