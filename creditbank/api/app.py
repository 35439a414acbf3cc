"""The FastAPI application: :func:`create_app` over a :class:`CreditBank` you already have.

``create_app(bank)`` is what tests and ``creditbank demo`` use; :func:`create_app_from_settings`
is what ``creditbank serve`` (and ``uvicorn --factory creditbank.api.app:create_app_from_settings``)
use: it reads :class:`~creditbank.config.Settings` once, opens the database, the log and its key,
and closes them when the server stops.

While the app runs (its lifespan), it owns one
:class:`~creditbank.accounts.group_commit.GroupCommitter`: every write of this process goes
through it, so concurrent requests share one transaction and one checkpoint. Several processes
(``uvicorn --workers N``) each have their own and take turns at the database's writers' lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, ExitStack, asynccontextmanager, nullcontext

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.group_commit import GroupCommitter
from creditbank.accounts.wiring import BankConfig, open_bank, shipped_data_dir
from creditbank.api.config import ApiConfig
from creditbank.api.deps import single_valued_query
from creditbank.api.limits import BodyLimitMiddleware
from creditbank.api.problem_handlers import install_problem_handlers
from creditbank.api.routes import (
    actors,
    admin_audit,
    batch,
    catalogue,
    certificates,
    conversions,
    credentials,
    credits,
    health,
    imports,
    learner_index,
    learners,
    log,
    mappings,
    programmes,
    reports,
)
from creditbank.config import Settings
from creditbank.credentials.issuer import CredentialIssuer, load_issuer
from creditbank.ledger import SqlLogStore
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.ledger.database import SINGLE_STATEMENT_OPTIONS
from creditbank.ledger.log import Log
from creditbank.web import install_web, verify
from creditbank.witness.background import WitnessSubmitter
from creditbank.witness.submit import parse_witness

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
    {"name": "batch", "description": "Several signed entries, appended all or none."},
    {"name": "public credentials", "description": "Shared credentials, status lists, did.json."},
    {"name": "health", "description": "Probes."},
]


def create_app(
    bank: CreditBank,
    *,
    config: ApiConfig | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    credential_issuer: CredentialIssuer | None = None,
) -> FastAPI:
    """The API over ``bank``. Everything the routes need is passed in here, nothing is global.

    ``lifespan`` (optional) wraps the app's own: it is entered first and left last, so what it
    opens (the bank, in :func:`create_app_from_settings`) outlives the group committer.
    """
    config = config or ApiConfig()
    max_group = config.max_group

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app) if lifespan is not None else nullcontext():
            committer = GroupCommitter(bank, max_batch=max_group)
            app.state.committer = committer
            submitter = _witness_submitter(bank, config)
            try:
                yield
            finally:
                app.state.committer = None
                # Commits what is queued, then stops the writer thread (off the event loop).
                await run_in_threadpool(committer.close)
                if submitter is not None:
                    await run_in_threadpool(submitter.close)

    app = FastAPI(
        title="creditbank",
        version="1",
        description=API_DESCRIPTION,
        openapi_tags=_TAGS,
        lifespan=run,
        dependencies=[Depends(single_valued_query)],
        telemetry={"tracing": False, "metrics": False, "logs": False},
        # A trailing-slash redirect would be built from the client's Host header: answer 404.
        redirect_slashes=False,
    )
    app.state.bank = bank
    # The read path's engine: the bank's pool, for single-statement reads (api/deps.py).
    app.state.reads = bank.engine.execution_options(**SINGLE_STATEMENT_OPTIONS)
    app.state.config = config
    app.state.committer = None
    app.state.credential_issuer = credential_issuer
    install_problem_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=config.max_body_bytes,
        path_limits={"/v1/batch": config.max_batch_body_bytes},
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(config.cors_origins),
        allow_credentials=False,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        expose_headers=["Location", "Idempotency-Replayed"],
        max_age=600,
    )
    app.include_router(learner_index.router)  # before log's routes (/v1/log/checkpoint/...)
    # The busiest routes early, as FastAPI tries routers in order and each router tried costs a
    # match of every route in it (a quarter of a write's own CPU when writes came eighth): the
    # balance read, then the signed writes of the entry kinds. Safe because each of these
    # routers has its own path prefix that no other router's paths share, so the order decides
    # how soon a request's router is found, never which route answers.
    for module in (health, learners, certificates, credits, conversions, mappings):
        app.include_router(module.router)
    for module in (log, catalogue, actors, programmes):
        app.include_router(module.router)
    app.include_router(batch.router)
    app.include_router(admin_audit.router)
    app.include_router(imports.router)  # cohort imports
    app.include_router(reports.router)  # reports
    app.include_router(credentials.router)
    install_web(app)
    app.include_router(verify.router)  # the public /verify page and /static/js/crypto/
    return app


def _witness_submitter(bank: CreditBank, config: ApiConfig) -> WitnessSubmitter | None:
    """The background thread that has each new checkpoint cosigned (none without witnesses).

    It reads the log through its own store, never through the writer's, so it cannot delay an
    append; see :mod:`creditbank.witness.background`.
    """
    if not config.witnesses:
        return None
    return WitnessSubmitter(
        Log(SqlLogStore(bank.engine), origin=bank.log.origin),
        CosignedStore(bank.engine),
        [parse_witness(item) for item in config.witnesses],
        poll_seconds=config.witness_poll_seconds,
        retry_base=config.witness_retry_seconds,
    ).start()


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
        timezone=settings.timezone,
    )
    stack = ExitStack()
    bank = stack.enter_context(open_bank(bank_config))
    secret = settings.credential_passphrase
    issuer = load_issuer(
        settings.credential_key_path,
        passphrase=secret.get_secret_value().encode() if secret else None,
        base_url=settings.public_base_url,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with stack:
            yield

    return create_app(
        bank,
        config=ApiConfig(
            timezone=settings.timezone,
            witnesses=tuple(settings.witnesses.split()),
            witness_poll_seconds=settings.witness_poll_seconds,
        ),
        lifespan=lifespan,
        credential_issuer=issuer,
    )
