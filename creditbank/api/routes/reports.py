"""Reports as CSV or XLSX: a programme's conversions and roster, a provider's certificates.

Registrars see what they posted (conversions and the learners they converted; institutions will
narrow this to their programmes), admins see everything, a provider sees only its own
certificates. Headers in Chinese (``lang=zh``, the default) or English; dates in the configured
time zone (``tz``, default Asia/Shanghai). See ``accounts/reports.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Response

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
from creditbank.accounts.tokens import Principal
from creditbank.api.deps import BankDep, require_roles
from creditbank.api.errors import problem_responses
from creditbank.errors import InputError

__all__ = ["router"]

router = APIRouter(
    prefix="/v1/reports", tags=["reports"], responses=problem_responses(401, 403, 404, 422)
)

Registrar = Annotated[Principal, Depends(require_roles("registrar", "admin"))]
Provider = Annotated[Principal, Depends(require_roles("provider"))]
Lang = Annotated[Literal["zh", "en"], Query(description="Header language")]
Format = Annotated[Literal["csv", "xlsx"], Query(alias="format", description="File format")]
TimeZone = Annotated[str, Query(max_length=64, description="IANA time zone of dates")]
Start = Annotated[date, Query(alias="from", description="First day (local), YYYY-MM-DD")]
End = Annotated[date, Query(alias="to", description="Last day (local), inclusive")]

_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {name!r}; use an IANA name like Asia/Shanghai"
        ) from None


def _file(report: Report, name: str, lang: Literal["zh", "en"], kind: str) -> Response:
    body = to_csv(report, lang) if kind == "csv" else to_xlsx(report, lang)
    return Response(
        body,
        media_type=_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


@router.get("/programmes/{programme_code}/conversions", summary="A programme's conversions")
def programme_conversions(
    bank: BankDep,
    principal: Registrar,
    programme_code: str,
    start: Start,
    end: End,
    lang: Lang = "zh",
    kind: Format = "csv",
    tz: TimeZone = "Asia/Shanghai",
) -> Response:
    programme = programme_of(bank.programmes, programme_code)
    report = conversions_report(
        bank.engine, programme, start, end, _zone(tz), registrar=registrar_scope(principal)
    )
    return _file(report, f"{programme.code}-conversions-{start}-{end}", lang, kind)


@router.get("/programmes/{programme_code}/roster", summary="A programme's learners and progress")
def programme_roster(
    bank: BankDep,
    principal: Registrar,
    programme_code: str,
    lang: Lang = "zh",
    kind: Format = "csv",
) -> Response:
    programme = programme_of(bank.programmes, programme_code)
    report = roster_report(bank.engine, programme, registrar=registrar_scope(principal))
    return _file(report, f"{programme.code}-roster", lang, kind)


@router.get("/certificates", summary="My issued and revoked certificates (provider)")
def provider_certificates(
    bank: BankDep,
    principal: Provider,
    start: Start,
    end: End,
    lang: Lang = "zh",
    kind: Format = "csv",
    tz: TimeZone = "Asia/Shanghai",
) -> Response:
    assert principal.actor_id is not None
    report = certificates_report(bank.engine, principal.actor_id, start, end, _zone(tz))
    return _file(report, f"{principal.actor_id}-certificates-{start}-{end}", lang, kind)
