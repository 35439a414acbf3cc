"""Builders for small in-memory catalogues and holdings, shared by the mapping tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from creditbank.mapping import (
    CertificateHolding,
    Course,
    CourseRequirement,
    CreditHolding,
    Mapping,
    Mode,
    Programme,
    ProgrammeCaps,
    QualificationRequirement,
)

#: The conversion date used throughout (the benchmark's date too).
AS_OF = date(2026, 11, 24)


class Factory:
    """Small, readable catalogues: programme ``P`` of institution ``SOU`` with courses C1..Cn."""

    def programme(
        self,
        credits: Sequence[str | int] = (3, 3, 4, 2),
        *,
        code: str = "P",
        total: str | int | None = None,
        caps: ProgrammeCaps | None = None,
        prefix: str = "C",
        institution: str = "SOU",
    ) -> Programme:
        courses = tuple(
            Course(institution, f"{prefix}{i}", f"Course {prefix}{i}", Decimal(str(c)))
            for i, c in enumerate(credits, start=1)
        )
        listed = sum((c.credits for c in courses), Decimal(0))
        return Programme(
            code,
            institution,
            f"Programme {code}",
            Decimal(str(total)) if total is not None else listed,
            caps or ProgrammeCaps(),
            courses,
        )

    def mapping(
        self,
        mapping_id: str,
        programme: Programme,
        courses: Sequence[str],
        *,
        requires: Sequence[tuple[str, int]] = (("6-18-02-04", 4),),
        source_course: tuple[str, str] | None = None,
        min_grade: str | None = None,
        mode: Mode = Mode.CERTIFICATE_RECOGNITION,
        version: int = 1,
        effective_from: date = date(2020, 1, 1),
        effective_to: date | None = None,
        valid_years: int | None = 5,
    ) -> Mapping:
        if source_course is not None:
            mode = Mode.CREDIT_RECOGNITION
            sources: tuple[QualificationRequirement | CourseRequirement, ...] = (
                CourseRequirement(
                    source_course[0],
                    source_course[1],
                    f"Course {source_course[1]}",
                    None if min_grade is None else Decimal(min_grade),
                ),
            )
        else:
            sources = tuple(
                QualificationRequirement(code, f"Trade {code}", level) for code, level in requires
            )
        targets = []
        for code in courses:
            course = programme.course(code)
            assert course is not None, code
            targets.append(course)
        return Mapping(
            mapping_id=mapping_id,
            version=version,
            mode=mode,
            provider="Provider",
            programme_code=programme.code,
            effective_from=effective_from,
            effective_to=effective_to,
            valid_years=valid_years,
            sources=sources,
            targets=tuple(targets),
        )

    @staticmethod
    def cert(
        holding_id: str,
        code: str = "6-18-02-04",
        level: int = 4,
        issued_on: date | None = date(2024, 6, 30),
        *,
        what_if: bool = False,
    ) -> CertificateHolding:
        return CertificateHolding(holding_id, code, level, issued_on, what_if)

    @staticmethod
    def credit(
        holding_id: str,
        institution: str = "EXT",
        course_code: str = "X1",
        grade: str = "80",
        earned_on: date | None = date(2023, 1, 15),
        *,
        credits: str = "3",
        what_if: bool = False,
    ) -> CreditHolding:
        return CreditHolding(
            holding_id,
            institution,
            course_code,
            Decimal(credits),
            Decimal(grade),
            earned_on,
            what_if,
        )
