"""The public catalogue: qualifications, programmes, courses and mappings, filterable and paged.

The catalogue is what the log has built: the programme versions in force today (each a signed
``programme.registered``) plus every approved mapping version not yet retired. Versions a provider registered that no registrar of the
programme's institution has approved yet are listed apart, as proposed (they count nowhere).
Anyone may read it; no token is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from creditbank.accounts.proposals import proposed_mappings
from creditbank.api.deps import BankDep, CatalogDep, PageDep, PageParams
from creditbank.api.errors import problem_responses
from creditbank.api.schemas import ISO_DATE, CreditsText, Page
from creditbank.mapping import Mapping, Mode, Programme
from creditbank.mapping.rules import mapping_in_force

__all__ = [
    "CoursePublic",
    "ProgrammeCapsPublic",
    "ProgrammePublic",
    "QualificationPublic",
    "router",
]

router = APIRouter(
    prefix="/v1/catalogue", tags=["catalogue"], responses=problem_responses(404, 422)
)

_T = TypeVar("_T")


class QualificationPublic(BaseModel):
    code: Annotated[str, Field(description="Occupation code of the 2022 classification")]
    name: str


class CoursePublic(BaseModel):
    institution: str
    programme_code: str
    course_code: str
    title: str
    credits: CreditsText


class ProgrammeCapsPublic(BaseModel):
    max_recognised_credits: CreditsText | None
    max_recognised_share: CreditsText | None
    max_certificates: int | None
    max_through_train_share: CreditsText | None


class ProgrammePublic(BaseModel):
    code: str
    institution: str
    title: str
    total_credits: CreditsText
    caps: ProgrammeCapsPublic
    courses: list[CoursePublic]


def _page(items: Sequence[_T], page: PageParams) -> Page[_T]:
    return Page[_T](
        items=list(items[page.offset : page.offset + page.limit]),
        total=len(items),
        offset=page.offset,
        limit=page.limit,
    )


def _programme(programme: Programme) -> ProgrammePublic:
    caps = programme.caps
    return ProgrammePublic(
        code=programme.code,
        institution=programme.institution,
        title=programme.title,
        total_credits=programme.total_credits,
        caps=ProgrammeCapsPublic(
            max_recognised_credits=caps.max_recognised_credits,
            max_recognised_share=caps.max_recognised_share,
            max_certificates=caps.max_certificates,
            max_through_train_share=caps.max_through_train_share,
        ),
        courses=[
            CoursePublic(
                institution=c.institution,
                programme_code=programme.code,
                course_code=c.course_code,
                title=c.title,
                credits=c.credits,
            )
            for c in programme.courses
        ],
    )


@router.get("/qualifications", summary="Occupations some mapping recognises")
def qualifications(
    catalog: CatalogDep,
    page: PageDep,
    q: Annotated[str | None, Query(description="Part of the code or the name")] = None,
) -> Page[QualificationPublic]:
    found = [
        QualificationPublic(code=item.code, name=item.name)
        for item in catalog.qualifications
        if q is None or q in item.code or q.lower() in item.name.lower()
    ]
    return _page(found, page)


@router.get("/programmes", summary="Diploma and degree programmes")
def programmes(
    catalog: CatalogDep,
    page: PageDep,
    institution: str | None = None,
) -> Page[ProgrammePublic]:
    found = [
        _programme(p)
        for p in catalog.programmes
        if institution is None or p.institution == institution
    ]
    return _page(found, page)


@router.get("/programmes/{programme_code}", summary="One programme with its courses and caps")
def programme(catalog: CatalogDep, programme_code: str) -> ProgrammePublic:
    return _programme(catalog.programme(programme_code))


@router.get("/courses", summary="Courses of every programme")
def courses(
    catalog: CatalogDep,
    page: PageDep,
    institution: str | None = None,
    programme_code: str | None = None,
) -> Page[CoursePublic]:
    found = [
        course
        for p in catalog.programmes
        if programme_code is None or p.code == programme_code
        for course in _programme(p).courses
        if institution is None or course.institution == institution
    ]
    return _page(found, page)


def _matches(
    mapping: Mapping,
    *,
    mode: Mode | None,
    provider: str | None,
    programme_code: str | None,
    qualification_code: str | None,
    course_code: str | None,
    in_force_on: date | None,
) -> bool:
    return (
        (mode is None or mapping.mode is mode)
        and (provider is None or mapping.provider == provider)
        and (programme_code is None or mapping.programme_code == programme_code)
        and (
            qualification_code is None
            or any(q.code == qualification_code for q in mapping.qualification_requirements)
        )
        and (course_code is None or mapping.target(course_code) is not None)
        and (in_force_on is None or mapping_in_force(mapping, in_force_on))
    )


@router.get(
    "/mappings",
    summary="Approved mappings (every approved, unretired version), filterable",
    response_description="Each item is a mapping as its `mapping.registered` entry carries it.",
)
def mappings(
    catalog: CatalogDep,
    page: PageDep,
    mode: Mode | None = None,
    provider: str | None = None,
    programme_code: str | None = None,
    qualification_code: str | None = None,
    course_code: str | None = None,
    in_force_on: Annotated[date | None, Query(), ISO_DATE] = None,
) -> Page[dict[str, Any]]:
    found = [
        m.to_json()
        for m in catalog.mappings
        if _matches(
            m,
            mode=mode,
            provider=provider,
            programme_code=programme_code,
            qualification_code=qualification_code,
            course_code=course_code,
            in_force_on=in_force_on,
        )
    ]
    return _page(found, page)


@router.get("/mappings/{mapping_id}", summary="Every unretired version of one mapping")
def mapping_versions(catalog: CatalogDep, mapping_id: str) -> list[dict[str, Any]]:
    catalog.mapping(mapping_id)  # NotFoundError when unknown
    return [m.to_json() for m in catalog.versions(mapping_id)]


@router.get(
    "/proposed-mappings",
    summary="Proposed mappings: registered, not yet approved, not retired",
    response_description="Each item is a mapping as its `mapping.registered` entry carries it.",
)
def proposed(
    bank: BankDep,
    page: PageDep,
    provider: str | None = None,
    programme_code: str | None = None,
) -> Page[dict[str, Any]]:
    with Session(bank.engine) as session:
        found = proposed_mappings(session)
    return _page(
        [
            m.to_json()
            for m in found
            if (provider is None or m.provider == provider)
            and (programme_code is None or m.programme_code == programme_code)
        ],
        page,
    )
