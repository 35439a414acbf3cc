"""Learners: registration (registrar) and the account reads (the learner themself, or a registrar).

A learner's token reads only that learner's account; any other id answers 404, as an unknown id
does. Every figure carries the log index of the entry behind it, and balances can be asked *as of*
a past date. The transcript is a self-contained bundle anyone can verify offline with the log's
verifier key (``creditbank verify-transcript``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.identity import Identity
from creditbank.accounts.kinds import KINDS
from creditbank.accounts.names import NameCache, NameIndex
from creditbank.accounts.tokens import Principal
from creditbank.accounts.views import Progress, learner_balance
from creditbank.api.config import ApiConfig
from creditbank.api.deps import (
    AsOfDep,
    AsOfQuery,
    BankDep,
    ConfigDep,
    LearnerIdPath,
    ReadCallerDep,
    check_as_of,
    may_read_learner,
    readable_learner,
    reads_engine,
    require_roles,
    today_in,
)
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import (
    DIGITS_ONLY,
    CreditsText,
    IsoDate,
    LearnerRegistrationIn,
    ReceiptPublic,
)
from creditbank.api.submission import IdempotencyKeyHeader, WriterDep, answer, submit_signed
from creditbank.mapping import parse_holdings

__all__ = [
    "BalancePublic",
    "ExpiringPublic",
    "PlanRequest",
    "ProgressPublic",
    "router",
]

router = APIRouter(prefix="/v1/learners", responses=problem_responses(401, 403, 404, 422))

Registrar = Annotated[Principal, Depends(require_roles("registrar"))]
ReadableLearner = Annotated[str, Depends(readable_learner)]
ProgrammeCode = Annotated[str, Query(min_length=1, max_length=64)]


class _FromDataclass(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CertificatePublic(_FromDataclass):
    certificate_id: str
    qualification_code: str
    qualification_name: Annotated[str | None, Field(description="Occupation name (职业名称)")]
    level: int
    issued_on: date
    provider: str
    index: int
    revoked: bool
    used: Annotated[bool, Field(description="A source of a standing conversion")]


class CreditPublic(_FromDataclass):
    credit_id: str
    institution: str
    course_code: str
    course_title: str | None
    credits: CreditsText
    grade: int | None
    earned_on: date
    index: int
    used: Annotated[bool, Field(description="A source of a standing conversion")]


class RecognitionPublic(_FromDataclass):
    conversion_id: str
    course_code: str
    course_title: str | None = None
    credits: CreditsText
    mapping_id: str
    mode: str
    sources: list[str]
    index: int


class ProgrammeBalancePublic(_FromDataclass):
    programme_code: str
    title: str | None
    recognised: CreditsText
    items: list[RecognitionPublic]


class BalancePublic(_FromDataclass):
    learner_id: str
    as_of: date | None
    certificates: list[CertificatePublic]
    credits_earned: list[CreditPublic]
    banked_credits: Annotated[CreditsText, Field(description="Every credit earned")]
    available_credits: Annotated[CreditsText, Field(description="Earned, not used by a conversion")]
    used_credits: Annotated[CreditsText, Field(description="Earned, used by a standing conversion")]
    programmes: list[ProgrammeBalancePublic]
    total_recognised: CreditsText
    by_source: dict[str, CreditsText]


class MissingCoursePublic(BaseModel):
    course_code: str
    credits: CreditsText


class ProgressPublic(BaseModel):
    learner_id: str
    programme_code: str
    total_credits: CreditsText
    recognised: CreditsText
    recognised_courses: list[RecognitionPublic]
    missing_courses: list[MissingCoursePublic]
    plan: Annotated[dict[str, Any], Field(description="What the planner could still recognise")]


class ExpiringPublic(_FromDataclass):
    kind: Annotated[str, Field(description="certificate or mapping")]
    id: str
    lapses_on: date
    detail: str


class PlanRequest(BaseModel):
    """Plan toward a programme as if the learner also held ``what_if`` (the holdings format)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "programme_code": "SOU-MECH-AD",
                    "what_if": {
                        "certificates": [
                            {
                                "holding_id": "next-level",
                                "qualification_code": "6-18-02-04",
                                "level": 2,
                                "what_if": True,
                            }
                        ]
                    },
                }
            ]
        },
    )

    programme_code: Annotated[str, Field(min_length=1, max_length=64)]
    as_of: IsoDate | None = None
    what_if: dict[str, Any] | None = None


def _progress(progress: Progress) -> ProgressPublic:
    return ProgressPublic(
        learner_id=progress.learner_id,
        programme_code=progress.programme_code,
        total_credits=progress.total_credits,
        recognised=progress.recognised,
        recognised_courses=[
            RecognitionPublic.model_validate(item, from_attributes=True)
            for item in progress.recognised_courses
        ],
        missing_courses=[
            MissingCoursePublic(course_code=code, credits=credits)
            for code, credits in progress.missing_courses
        ],
        plan=progress.plan.to_json(),
    )


@router.post(
    "",
    status_code=201,
    tags=["registrar"],
    summary="Register a learner",
    responses=problem_responses(409),
)
async def register_learner(
    writer: WriterDep,
    principal: Registrar,
    payload: LearnerRegistrationIn,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ReceiptPublic:
    """A signed `learner.registered` entry (a random learner id and the salted commitment to the
    identity) with the identity itself beside it, which is kept off the log."""
    identity = Identity(
        name=payload.identity.name, id_number=payload.identity.id_number, salt=payload.identity.salt
    )
    receipt = await submit_signed(
        writer,
        principal,
        payload,
        kind=KINDS["learner.registered"],
        idempotency_key=idempotency_key,
        identity=identity,
    )
    return answer(receipt, response)


def _name_cache(request: Request, bank: CreditBank) -> NameCache:
    """Occupation and course names, refreshed from the catalogue every ``names_ttl`` seconds."""
    cache: NameCache | None = getattr(request.app.state, "names", None)
    if cache is None:

        def load() -> NameIndex:
            with Session(bank.engine) as session:
                return NameIndex.of(bank.catalog(session), bank.programmes)

        cache = NameCache(load, request.app.state.config.names_ttl)
        request.app.state.names = cache
    return cache


@router.get(
    "/{learner_id}/balance",
    tags=["learner"],
    summary="Banked and recognised credits",
    response_model=BalancePublic,
)
async def balance(
    request: Request, caller: ReadCallerDep, learner_id: LearnerIdPath, as_of: AsOfQuery = None
) -> Response:
    """Certificates and earned credits (each marked available or used), recognised credits by
    programme, with names beside codes and the log index behind every figure.

    The busiest read, so it is kept cheap (docs/benchmarks.md): the token is looked up first (a
    dependency, so a missing or bad token answers 401 before anything else), on the connection
    the balance is then read on (one pool checkout per request); the same checks as
    ``readable_learner`` and ``as_of_param`` run as plain calls instead of dependencies FastAPI
    would solve per request; one SQL query, on the event loop (why that is safe: "Database reads
    on the event loop" in ``api/deps.py``); the name index, when it has to be rebuilt, is loaded
    in the threadpool (the connection is returned first: none is held across an await); the
    answer is serialised once, not validated again.
    """
    bank: CreditBank = request.app.state.bank
    config: ApiConfig = request.app.state.config
    may_read_learner(caller.principal, learner_id)
    check_as_of(config, as_of)
    cache = _name_cache(request, bank)
    names = cache.current()
    tz = ZoneInfo(config.timezone)
    if names is not None:
        found = learner_balance(caller.connection, learner_id, as_of, tz=tz, names=names)
    else:
        caller.connection.close()
        names = await run_in_threadpool(cache.get)
        with reads_engine(request).connect() as connection:
            found = learner_balance(connection, learner_id, as_of, tz=tz, names=names)
    body = BalancePublic.model_validate(found, from_attributes=True).model_dump_json()
    return Response(body, media_type="application/json")


@router.get("/{learner_id}/progress", tags=["learner"], summary="Progress toward a programme")
def progress(
    bank: BankDep,
    config: ConfigDep,
    learner_id: ReadableLearner,
    programme_code: ProgrammeCode,
    as_of: AsOfDep,
) -> ProgressPublic:
    return _progress(bank.progress(learner_id, programme_code, as_of or today_in(config)))


@router.get(
    "/{learner_id}/expiring",
    tags=["learner"],
    summary="Certificates and mappings that stop counting soon",
)
def expiring(
    bank: BankDep,
    config: ConfigDep,
    learner_id: ReadableLearner,
    days: Annotated[int, Query(ge=1, le=3660), DIGITS_ONLY] = 90,
) -> list[ExpiringPublic]:
    return [
        ExpiringPublic.model_validate(item, from_attributes=True)
        for item in bank.expiring(learner_id, days, today=today_in(config))
    ]


@router.get(
    "/{learner_id}/plan",
    tags=["learner", "registrar"],
    summary="The planner's best conversion toward a programme",
)
def plan(
    bank: BankDep,
    config: ConfigDep,
    learner_id: ReadableLearner,
    programme_code: ProgrammeCode,
    as_of: AsOfDep,
) -> dict[str, Any]:
    return bank.plan_for(learner_id, programme_code, as_of or today_in(config)).to_json()


@router.post(
    "/{learner_id}/plan",
    tags=["learner", "registrar"],
    summary="What-if: plan as if the learner also held more",
)
def plan_what_if(
    bank: BankDep, config: ConfigDep, learner_id: ReadableLearner, request: PlanRequest
) -> dict[str, Any]:
    what_if = parse_holdings(request.what_if) if request.what_if is not None else None
    day = request.as_of or today_in(config)
    return bank.plan_for(learner_id, request.programme_code, day, what_if=what_if).to_json()


@router.get(
    "/{learner_id}/transcript",
    tags=["learner"],
    summary="A verifiable transcript: entries, inclusion proofs, checkpoint, log key id",
)
def transcript(bank: BankDep, learner_id: ReadableLearner) -> dict[str, Any]:
    return bank.transcript(learner_id)
