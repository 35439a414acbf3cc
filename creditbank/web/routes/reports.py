"""Reports to download from the pages: the three reports of ``accounts/reports.py``, CSV or XLSX.

A form per report on ``/reports``: a programme's conversions in a date range and its roster (for
registrars, who get what they posted, and admins, who get everything: the same
:func:`registrar_scope` as the API's report routes), and a provider's own certificates in a date
range. Headers in Chinese or English, dates in the configured time zone. The downloads are GET
forms: they change nothing, and the session cookie (SameSite=Strict) is never sent with a request
another site starts. Anyone else gets the 404 page.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from creditbank.accounts.reports import (
    Report,
    certificates_report,
    conversions_report,
    programme_of,
    registrar_scope,
    roster_report,
    to_csv,
    to_xlsx,
)
from creditbank.errors import InputError, NotFoundError
from creditbank.web.page import Page, PageDep

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: Who may download which report (the API's report routes allow the same roles).
_ROLES = {"conversions": ("registrar", "admin"), "roster": ("registrar", "admin"),
          "certificates": ("provider",)}  # fmt: skip
_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Lang = Annotated[Literal["zh", "en"], Query()]
Format = Annotated[Literal["csv", "xlsx"], Query(alias="format")]
Programme = Annotated[str, Query(min_length=1, max_length=64)]
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]


def _may(page: Page, report: str) -> bool:
    user = page.principal
    return user is not None and user.actor_id is not None and user.role in _ROLES[report]


def _render(page: Page, *, error: str | None = None, status: int = 200, **chosen: Any) -> Response:
    today = page.web.today()
    return page.render(
        "reports.html",
        status=status,
        error=error,
        reports=[name for name in _ROLES if _may(page, name)],
        programmes=page.web.bank.programmes,
        start=str(chosen.get("start") or today - timedelta(days=30)),
        end=str(chosen.get("end") or today),
        chosen_programme=chosen.get("programme", ""),
        report_lang="zh" if page.language == "zh_CN" else "en",
    )


@router.get("/reports")
def reports_page(page: PageDep) -> Response:
    if not any(_may(page, name) for name in _ROLES):
        return page.not_found()
    return _render(page)


def _download(
    page: Page, report: Report, name: str, lang: Literal["zh", "en"], kind: str
) -> Response:
    body = to_csv(report, lang) if kind == "csv" else to_xlsx(report, lang)
    response = Response(
        body,
        media_type=_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )
    return page.finish(response)


def _dates(start: date | None, end: date | None) -> tuple[date, date]:
    if start is None or end is None:
        raise InputError("give the first and the last day of the report")
    return start, end


@router.get("/reports/conversions")
def conversions_download(
    page: PageDep,
    programme: Programme,
    start: From = None,
    end: To = None,
    lang: Lang = "zh",
    kind: Format = "csv",
) -> Response:
    if not _may(page, "conversions"):
        return page.not_found()
    assert page.principal is not None
    try:
        first, last = _dates(start, end)
        found = programme_of(page.web.bank.programmes, programme)
        report = conversions_report(
            page.web.bank.engine, found, first, last, page.web.config.zone,
            registrar=registrar_scope(page.principal),
        )  # fmt: skip
    except (InputError, NotFoundError) as exc:
        return _render(page, error=str(exc), status=422, programme=programme, start=start, end=end)
    return _download(page, report, f"{found.code}-conversions-{first}-{last}", lang, kind)


@router.get("/reports/roster")
def roster_download(
    page: PageDep, programme: Programme, lang: Lang = "zh", kind: Format = "csv"
) -> Response:
    if not _may(page, "roster"):
        return page.not_found()
    assert page.principal is not None
    try:
        found = programme_of(page.web.bank.programmes, programme)
    except NotFoundError as exc:
        return _render(page, error=str(exc), status=422, programme=programme)
    report = roster_report(page.web.bank.engine, found, registrar=registrar_scope(page.principal))
    return _download(page, report, f"{found.code}-roster", lang, kind)


@router.get("/reports/certificates")
def certificates_download(
    page: PageDep, start: From = None, end: To = None, lang: Lang = "zh", kind: Format = "csv"
) -> Response:
    if not _may(page, "certificates"):
        return page.not_found()
    assert page.principal is not None and page.principal.actor_id is not None
    provider = page.principal.actor_id
    try:
        first, last = _dates(start, end)
        report = certificates_report(
            page.web.bank.engine, provider, first, last, page.web.config.zone
        )
    except InputError as exc:
        return _render(page, error=str(exc), status=422, start=start, end=end)
    return _download(page, report, f"{provider}-certificates-{first}-{last}", lang, kind)
