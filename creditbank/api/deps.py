"""Dependencies: the bank, the caller, and who may read or write what.

Routes declare what they need as ``Annotated[..., Depends(...)]`` parameters; nothing here is a
module-level singleton. The bank lives on ``app.state`` (set by :func:`creditbank.api.app.create_app`)
and tests may override :func:`get_bank` or :func:`get_config` like any other dependency.

Access rules enforced here, before the domain is asked:

* a bearer token must authenticate (401 otherwise);
* the token's role must be one the route admits (403 otherwise);
* a learner may read only their own account: another learner's id answers 404, exactly as an
  unknown id does, so ids cannot be probed.

The bank then enforces what only it can know: the signing key belongs to the actor, the actor's
role may sign the entry type, a provider owns the certificate or mapping it changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine
from sqlmodel import Session

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.tokens import Principal, Role, authenticate
from creditbank.api.config import ApiConfig
from creditbank.api.schemas import DIGITS_ONLY, ISO_DATE
from creditbank.errors import AuthenticationError, InputError, NotFoundError, PermissionDenied
from creditbank.mapping import Catalog

__all__ = [
    "AsOfDep",
    "AsOfQuery",
    "BankDep",
    "CatalogDep",
    "ConfigDep",
    "LearnerIdPath",
    "PageDep",
    "PageParams",
    "PrincipalDep",
    "ReadCaller",
    "ReadCallerDep",
    "get_bank",
    "get_catalog",
    "get_config",
    "check_as_of",
    "get_principal",
    "get_read_caller",
    "may_read_learner",
    "page_params",
    "readable_learner",
    "reads_engine",
    "require_roles",
    "today_in",
    "single_valued_query",
]

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="opaque",
    description="A token issued by an admin (`POST /v1/tokens`), bound to one actor or learner.",
)


# Dependencies that do no blocking I/O are ``async def``: FastAPI runs those on the event loop
# instead of sending each through the threadpool (a hop costs more than the work it wraps).
#
# Database reads on the event loop. ``get_principal`` and the balance route are ``async def``
# although they query the database, because each is one or two indexed lookups (a token's primary
# key; the learner's rows by ``learner_id``) of well under a millisecond, while handing a function
# to a worker thread and back cost more CPU than that under load (about a quarter of a read's
# CPU in the profile of docs/benchmarks.md). It is safe because such a read cannot wait long:
# * it takes no lock that a writer holds: SQLite runs in WAL mode, where readers never wait for
#   the writer, and a PostgreSQL SELECT reads its snapshot without waiting for row locks;
# * the loop holds at most one pooled connection at a time (nothing is awaited between checkout
#   and return), so it waits for the pool only when threadpool routes hold every other
#   connection, and those threads never wait for the loop, so they return them;
# * the statements are built once, and the lookups are by index, whatever the ledger's size.
# Anything heavier (catalogues, plans, transcripts, writes) stays in the threadpool.


async def get_bank(request: Request) -> CreditBank:
    bank: CreditBank = request.app.state.bank
    return bank


async def get_config(request: Request) -> ApiConfig:
    config: ApiConfig = request.app.state.config
    return config


def reads_engine(request: Request) -> Engine:
    """The bank's engine for reads of one statement each (no BEGIN on SQLite); see create_app."""
    engine: Engine = request.app.state.reads
    return engine


BankDep = Annotated[CreditBank, Depends(get_bank)]
ConfigDep = Annotated[ApiConfig, Depends(get_config)]


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``, looked up on every request.

    This runs on the event loop although it queries the database (see "Database reads on the
    event loop" above): it is one primary-key lookup, and no result is cached, so a revoked
    token is refused from the next request on.
    """
    token = _bearer_token(credentials)
    # The engine from the app's state, not the bank through ``BankDep``: each sub-dependency
    # costs FastAPI a cache-key computation per request, and every authenticated route solves
    # this one. ``reads`` is the bank's pool for single-statement reads (see create_app).
    with reads_engine(request).connect() as connection:
        return authenticate(connection, token)


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("this route needs an Authorization: Bearer <token> header")
    return credentials.credentials


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class ReadCaller:
    """The caller and the one connection their token was looked up on, for a read that needs one
    more statement: one pool checkout per request instead of two (on PostgreSQL each checkout is
    a ``pool_pre_ping`` round trip besides the query)."""

    principal: Principal
    connection: Connection


async def get_read_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AsyncIterator[ReadCaller]:
    """:func:`get_principal`, keeping its connection open for the route until the route returns.

    The same checks in the same order (a missing or bad token answers 401 before the path and
    query are validated). The connection is held on the event loop only while nothing is awaited
    (see "Database reads on the event loop" above): a route that must await something first
    closes it (:meth:`Connection.close`) and opens another afterwards. ``scope="function"`` on
    :data:`ReadCallerDep` returns it to the pool before the answer is sent, not after.
    """
    token = _bearer_token(credentials)
    with reads_engine(request).connect() as connection:
        yield ReadCaller(authenticate(connection, token), connection)


ReadCallerDep = Annotated[ReadCaller, Depends(get_read_caller, scope="function")]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only callers whose token has one of ``roles``."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise PermissionDenied(
                f"this route is for {' or '.join(roles)} tokens; this token is a {principal.role}'s"
            )
        return principal

    return check


def may_read_learner(principal: Principal, learner_id: str) -> str:
    """``learner_id``, if ``principal`` may read that account; the rule of :func:`readable_learner`.

    Registrars read any learner. A learner reads only their own account; any other id answers
    404 with the same words as an unregistered one. Admins and providers read no accounts.
    """
    if principal.role == "registrar":
        return learner_id
    if principal.role == "learner":
        if principal.learner_id != learner_id:
            raise NotFoundError(f"learner {learner_id!r} is not registered")
        return learner_id
    raise PermissionDenied(f"a {principal.role} token cannot read learner accounts")


LearnerIdPath = Annotated[str, Path(min_length=1, max_length=128)]


async def readable_learner(learner_id: LearnerIdPath, principal: PrincipalDep) -> str:
    """The learner id of the path, if the caller may read that account (:func:`may_read_learner`)."""
    return may_read_learner(principal, learner_id)


def _declared_query(dependant: Any) -> set[str]:
    names = {str(param.alias) for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query(sub)
    return names


async def single_valued_query(request: Request) -> None:
    """A query parameter the route declares, given more than once, is refused (422).

    Every declared query parameter holds one value; silently picking one of several would hide a
    client's mistake. Parameters the route does not know are ignored, as HTTP APIs do.
    """
    keys = [key for key, _ in request.query_params.multi_items()]
    if len(keys) == len(set(keys)):
        return
    dependant = getattr(request.scope.get("route"), "dependant", None)
    declared = _declared_query(dependant) if dependant is not None else set()
    repeated = sorted({key for key in keys if keys.count(key) > 1} & declared)
    if repeated:
        raise InputError(
            f"query parameter {repeated[0]!r} is given {keys.count(repeated[0])} times; "
            "give it once"
        )


def get_catalog(bank: BankDep) -> Catalog:
    """The catalogue as the log has built it: programmes plus every unretired mapping."""
    with Session(bank.engine) as session:
        return bank.catalog(session)


CatalogDep = Annotated[Catalog, Depends(get_catalog)]


@dataclass(frozen=True)
class PageParams:
    offset: int
    limit: int


async def page_params(
    config: ConfigDep,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1), DIGITS_ONLY] = 0,
    limit: Annotated[
        int | None,
        Query(ge=1, le=2**63 - 1, description="At most the server's page limit"),
        DIGITS_ONLY,
    ] = None,
) -> PageParams:
    return PageParams(offset, min(limit or config.page_size, config.max_page_size))


PageDep = Annotated[PageParams, Depends(page_params)]


def today_in(config: ApiConfig) -> date:
    """Today in the configured time zone (learners' days are not UTC days)."""
    return datetime.now(ZoneInfo(config.timezone)).date()


AsOfQuery = Annotated[
    date | None,
    Query(description="Count only what the log held at the end of this day (server's zone)"),
    ISO_DATE,
]


def check_as_of(config: ApiConfig, as_of: date | None) -> date | None:
    """``as_of`` as given, refused when it is after today: the future is not on the log yet."""
    if as_of is not None and as_of > today_in(config):
        raise InputError(
            f"as_of {as_of} is in the future (today is {today_in(config)} in {config.timezone})"
        )
    return as_of


async def as_of_param(config: ConfigDep, as_of: AsOfQuery = None) -> date | None:
    """``as_of`` as given, refused when it is after today (:func:`check_as_of`)."""
    return check_as_of(config, as_of)


AsOfDep = Annotated[date | None, Depends(as_of_param)]
