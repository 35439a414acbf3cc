"""Registrars find a learner by name or ID number (``POST /registrar/find``), audited.

A POST with the CSRF token, not a GET: the name or ID number must not end up in a URL (server and
proxy access logs, browser history, the Referer header). Anyone but a registrar gets the 404 page,
as on the other registrar pages. The search itself, and its audit row, are
:func:`creditbank.accounts.identity_search.search_identities`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from creditbank.accounts.identity_search import IdentityMatch, SearchBy, search_identities
from creditbank.errors import InputError
from creditbank.web.page import PageDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.post("/registrar/find")
async def find_learner(page: PageDep, request: Request) -> Response:
    form = await request.form()
    user = page.principal
    if user is None or user.role != "registrar" or user.actor_id is None:
        return page.not_found()
    if not page.csrf_ok(form):
        return page.forbidden()
    query = form.get("query")
    by_field = form.get("by")
    by: SearchBy = "id_number" if by_field == "id_number" else "name"
    error = None
    matches: list[IdentityMatch] = []
    more = False
    try:
        matches, more = search_identities(
            page.web.bank.engine,
            query if isinstance(query, str) else "",
            by,
            now=page.web.bank.clock(),
            searcher=user.actor_id,
            role=user.role,
        )
    except InputError:
        error = page._("Give a name or an ID number to search for (at most 64 characters).")
    return page.render(
        "registrar_search.html",
        status=422 if error else 200,
        by=by,
        error=error,
        matches=matches,
        more=more,
    )
