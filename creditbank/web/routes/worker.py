"""A worker's own page, ``/learners/{id}``: what they hold, what it counts for, what they could add.

Only that learner and registrars may open it; anyone else (another learner, a provider, an admin,
someone not signed in) gets the same 404 page as for an id that does not exist, so ids cannot be
probed. Days ("what expires soon", the planner's date) are counted in the configured time zone.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlmodel import Session

from creditbank.errors import CreditbankError, NotFoundError
from creditbank.mapping import CertificateHolding, Holdings
from creditbank.web.page import Page, PageDep
from creditbank.web.plan_text import plan_json

router = APIRouter(include_in_schema=False)

LearnerId = Annotated[str, Path(min_length=1, max_length=128)]
_EXPIRING_DAYS = 90


def may_read(page: Page, learner_id: str) -> bool:
    user = page.principal
    if user is None:
        return False
    return user.role == "registrar" or (user.role == "learner" and user.learner_id == learner_id)


def _percent(part: Decimal, whole: Decimal) -> int:
    return 0 if whole <= 0 else min(100, int(part * 100 / whole))


def _what_if(
    page: Page, learner_id: str, programme: str, qualification: str, level: str
) -> tuple[dict[str, Any] | None, str | None]:
    if not qualification:
        return None, None
    try:
        holding = CertificateHolding(
            "what-if", qualification.strip(), int(level or 0), None, what_if=True
        )
        plan = page.web.bank.plan_for(
            learner_id, programme, page.web.today(), what_if=Holdings((holding,), ())
        )
    except (CreditbankError, ValueError) as exc:
        return None, str(exc)
    return plan_json(plan, page.t), None


@router.get("/learners/{learner_id}")
def worker_page(
    page: PageDep,
    learner_id: LearnerId,
    programme: Annotated[str, Query(max_length=64)] = "",
    qualification: Annotated[str, Query(max_length=32)] = "",
    level: Annotated[str, Query(max_length=2)] = "",
) -> Response:
    if not may_read(page, learner_id):
        return page.not_found()
    bank = page.web.bank
    try:
        balance = bank.balance(learner_id)
    except NotFoundError:
        return page.not_found()
    with Session(bank.engine) as session:
        catalog = bank.catalog(session)
    programmes = {p.code: p for p in catalog.programmes}
    names = {q.code: q.name for q in catalog.qualifications}
    titles = {(p.code, c.course_code): c.title for p in catalog.programmes for c in p.courses} | {
        (c.institution, c.course_code): c.title for p in catalog.programmes for c in p.courses
    }
    chosen = (
        programme
        if programme in programmes
        else next((p.programme_code for p in balance.programmes), catalog.programmes[0].code)
    )
    progress = bank.progress(learner_id, chosen, page.web.today())
    expiring = bank.expiring(learner_id, _EXPIRING_DAYS, today=page.web.today())
    what_if, what_if_error = _what_if(page, learner_id, chosen, qualification, level)
    return page.render(
        "worker.html",
        learner_id=learner_id,
        balance=balance,
        programmes=programmes,
        names=names,
        titles=titles,
        totals=[
            (
                p,
                programmes[p.programme_code],
                _percent(p.recognised, programmes[p.programme_code].total_credits),
            )
            for p in balance.programmes
            if p.programme_code in programmes
        ],
        chosen=programmes[chosen],
        progress=progress,
        progress_percent=_percent(progress.recognised, progress.total_credits),
        plan=plan_json(progress.plan, page.t),
        expiring=expiring,
        expiring_days=_EXPIRING_DAYS,
        qualification=qualification,
        level=level,
        what_if=what_if,
        what_if_error=what_if_error,
        all_qualifications=catalog.qualifications,
        credentials=getattr(page.request.app.state, "credential_issuer", None) is not None,
    )


@router.get("/learners/{learner_id}/transcript.json")
def transcript_download(page: PageDep, learner_id: LearnerId) -> Response:
    if not may_read(page, learner_id):
        return page.not_found()
    try:
        bundle = page.web.bank.transcript(learner_id)
    except NotFoundError:
        return page.not_found()
    return page.finish(
        Response(
            json.dumps(bundle, ensure_ascii=False, indent=2),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="transcript-{learner_id}.json"'},
        )
    )
