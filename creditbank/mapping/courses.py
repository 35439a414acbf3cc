"""Courses and programmes: what credits are recognised *toward*.

A programme (专业) of an institution lists its courses with their credits and a total; its caps
limit how much of that total recognition may supply. The intrinsic rules of a programme live in
:func:`programme_issues` so that the CSV loader (which reports them with line and column) and the
dataclass constructor (which refuses to build an invalid object) apply the very same checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from creditbank.mapping.issues import Issue, raise_issues

__all__ = [
    "DEFAULT_MAX_THROUGH_TRAIN_SHARE",
    "DEFAULT_MIN_THROUGH_TRAIN_SHARE",
    "Course",
    "CourseKey",
    "Programme",
    "ProgrammeCaps",
    "programme_issues",
]

#: A course is identified by its institution and its code at that institution.
CourseKey = tuple[str, str]


@dataclass(frozen=True)
class Course:
    """One course of an institution and the credits it carries."""

    institution: str
    course_code: str
    title: str
    credits: Decimal

    @property
    def key(self) -> CourseKey:
        return (self.institution, self.course_code)

    @property
    def label(self) -> str:
        return f"{self.institution}:{self.course_code}"


#: A through-train block carries 40-60% of a degree (Shanghai's rule), unless a programme says.
DEFAULT_MIN_THROUGH_TRAIN_SHARE = Decimal("0.4")
DEFAULT_MAX_THROUGH_TRAIN_SHARE = Decimal("0.6")


@dataclass(frozen=True)
class ProgrammeCaps:
    """How much of a programme recognition may supply; ``None`` means no such cap.

    The credit cap in force is the smaller of the absolute cap and the share of the total.
    A through-train block (直通车) is credited whole and carries between
    ``min_through_train_share`` and ``max_through_train_share`` of the total (Shanghai: 40-60%,
    the defaults when a bound is not given; see :attr:`through_train_shares`).
    """

    max_recognised_credits: Decimal | None = None
    max_recognised_share: Decimal | None = None
    max_certificates: int | None = None
    max_through_train_share: Decimal | None = None
    min_through_train_share: Decimal | None = None

    @property
    def through_train_shares(self) -> tuple[Decimal, Decimal]:
        """The (lower, upper) share of the total one through-train block must carry."""
        lower = self.min_through_train_share
        upper = self.max_through_train_share
        return (
            DEFAULT_MIN_THROUGH_TRAIN_SHARE if lower is None else lower,
            DEFAULT_MAX_THROUGH_TRAIN_SHARE if upper is None else upper,
        )


@dataclass(frozen=True)
class Programme:
    """A diploma or degree programme, its courses and its recognition caps."""

    code: str
    institution: str
    title: str
    total_credits: Decimal
    caps: ProgrammeCaps
    courses: tuple[Course, ...]

    def __post_init__(self) -> None:
        raise_issues(
            programme_issues(
                self.code, self.institution, self.total_credits, self.caps, self.courses
            )
        )

    def course(self, course_code: str) -> Course | None:
        for course in self.courses:
            if course.course_code == course_code:
                return course
        return None


def programme_issues(
    code: str,
    institution: str,
    total_credits: Decimal,
    caps: ProgrammeCaps,
    courses: Sequence[Course],
) -> list[Issue]:
    """Everything wrong with a programme taken on its own (not against other programmes)."""
    issues: list[Issue] = []
    if not code or not institution:
        issues.append(Issue("a programme needs a code and an institution", programme_code=code))
    if total_credits <= 0:
        issues.append(
            Issue(
                "total_credits must be greater than 0", programme_code=code, field="total_credits"
            )
        )
    if not courses:
        issues.append(Issue("a programme needs at least one course", programme_code=code))
    seen: set[str] = set()
    for course in courses:
        if course.course_code in seen:
            issues.append(
                Issue(
                    "course listed twice in the programme",
                    programme_code=code,
                    course_code=course.course_code,
                    field="course_code",
                )
            )
        seen.add(course.course_code)
        if course.institution != institution:
            issues.append(
                Issue(
                    f"course belongs to {course.institution}, not to the programme's {institution}",
                    programme_code=code,
                    course_code=course.course_code,
                    field="institution",
                )
            )
    listed = sum((c.credits for c in courses), Decimal(0))
    if listed > total_credits:
        issues.append(
            Issue(
                f"the courses add up to {listed} credits, more than the programme total "
                f"{total_credits}",
                programme_code=code,
                field="total_credits",
            )
        )
    cap_credits = caps.max_recognised_credits
    if cap_credits is not None and not 0 < cap_credits <= total_credits:
        issues.append(
            Issue(
                f"max_recognised_credits must be more than 0 and at most the total "
                f"{total_credits}, got {cap_credits}",
                programme_code=code,
                field="max_recognised_credits",
            )
        )
    for name, share in (
        ("max_recognised_share", caps.max_recognised_share),
        ("max_through_train_share", caps.max_through_train_share),
        ("min_through_train_share", caps.min_through_train_share),
    ):
        if share is not None and not 0 < share <= 1:
            issues.append(
                Issue(
                    f"{name} must be a fraction more than 0 and at most 1, got {share}",
                    programme_code=code,
                    field=name,
                )
            )
    if caps.max_certificates is not None and caps.max_certificates < 1:
        issues.append(
            Issue(
                f"max_certificates must be at least 1, got {caps.max_certificates}",
                programme_code=code,
                field="max_certificates",
            )
        )
    lower, upper = caps.through_train_shares
    if 0 < lower <= 1 and 0 < upper <= 1 and lower > upper:
        issues.append(
            Issue(
                f"min_through_train_share {lower} is more than max_through_train_share {upper}",
                programme_code=code,
                field="min_through_train_share",
            )
        )
    return issues
