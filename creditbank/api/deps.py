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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.tokens import Principal, Role
from creditbank.api.config import ApiConfig
from creditbank.api.schemas import DIGITS_ONLY, ISO_DATE
from creditbank.errors import AuthenticationError, InputError, NotFoundError, PermissionDenied
from creditbank.mapping import Catalog

__all__ = [
    "AsOfDep",
    "BankDep",
    "CatalogDep",
    "ConfigDep",
    "PageDep",
    "PageParams",
    "PrincipalDep",
    "get_bank",
    "get_catalog",
    "get_config",
    "get_principal",
    "page_params",
    "readable_learner",
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


async def get_bank(request: Request) -> CreditBank:
    bank: CreditBank = request.app.state.bank
    return bank


async def get_config(request: Request) -> ApiConfig:
    config: ApiConfig = request.app.state.config
    return config


BankDep = Annotated[CreditBank, Depends(get_bank)]
ConfigDep = Annotated[ApiConfig, Depends(get_config)]


def get_principal(
    bank: BankDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``."""
    if credentials is None or not credentials.credentials:
        raise AuthenticationError("this route needs an Authorization: Bearer <token> header")
    return bank.authenticate(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting only callers whose token has one of ``roles``."""

    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise PermissionDenied(
                f"this route is for {' or '.join(roles)} tokens; this token is a {principal.role}'s"
            )
        return principal

    return check


async def readable_learner(
    learner_id: Annotated[str, Path(min_length=1, max_length=128)],
    principal: PrincipalDep,
) -> str:
    """The learner id of the path, if the caller may read that account.

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


async def as_of_param(
    config: ConfigDep,
    as_of: Annotated[
        date | None,
        Query(description="Count only what the log held at the end of this day (server's zone)"),
        ISO_DATE,
    ] = None,
) -> date | None:
    """``as_of`` as given, refused when it is after today: the future is not on the log yet."""
    if as_of is not None and as_of > today_in(config):
        raise InputError(
            f"as_of {as_of} is in the future (today is {today_in(config)} in {config.timezone})"
        )
    return as_of


AsOfDep = Annotated[date | None, Depends(as_of_param)]
