"""The conversion rules, as pure functions over values.

The planner and :func:`~creditbank.mapping.evaluation.evaluate` both decide with these functions,
so a plan the planner proposes is accepted by the registrar's check and vice versa. Each refusal
carries a stable :class:`Reason` code (the ``code`` of ``RuleViolation``) and a sentence a registrar
understands.

Rules, in the order a source is checked against a mapping:

1. the mapping is in force on the conversion date (a version between its effective dates);
2. level threshold: a certificate at level L meets a requirement of level M when L <= M
   (1 = 高级技师 is the highest), and a course credit meets a minimum grade;
3. the source existed on the conversion date (what-if holdings are assumed to exist);
4. validity: a source counts only within ``valid_years`` of its issue (or earning) date;
5. supersession: of one trade only the highest certificate counts; a higher certificate tops up
   what a lower one already earned, it never stacks with it;
6. caps per programme and no double counting (enforced over a whole allocation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum

from creditbank.mapping.courses import Programme
from creditbank.mapping.holdings import CertificateHolding, CreditHolding
from creditbank.mapping.mappings import CourseRequirement, Mapping, QualificationRequirement
from creditbank.mapping.wording import Wording, wording

__all__ = [
    "CapUse",
    "Reason",
    "Refusal",
    "Stage",
    "add_years",
    "cap_usage",
    "certificate_refusal",
    "credit_cap",
    "credit_refusal",
    "grade_meets",
    "level_satisfies",
    "mapping_in_force",
    "supersedes",
    "through_train_cap",
    "within_validity",
]


class Reason(StrEnum):
    """Why a holding or a proposed recognition is refused (stable, kebab-case)."""

    NO_MAPPING = "no-mapping"
    NOT_IN_PROGRAMME = "not-in-programme"
    UNKNOWN_MAPPING = "unknown-mapping"
    UNKNOWN_HOLDING = "unknown-holding"
    SOURCE_MISMATCH = "source-mismatch"
    MAPPING_NOT_IN_FORCE = "mapping-not-in-force"
    BELOW_MIN_LEVEL = "below-min-level"
    GRADE_TOO_LOW = "grade-too-low"
    NOT_YET_ISSUED = "not-yet-issued"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CREDIT_EXPIRED = "credit-expired"
    REQUIREMENT_INCOMPLETE = "requirement-incomplete"
    SUPERSEDED = "superseded"
    SOURCE_ALREADY_USED = "source-already-used"
    COURSE_ALREADY_CREDITED = "course-already-credited"
    CAP_EXCEEDED = "cap-exceeded"
    BLOCK_INCOMPLETE = "block-incomplete"


class Stage(IntEnum):
    """How far a source got before it was refused; the furthest refusal is the one reported."""

    PROGRAMME = 0
    IN_FORCE = 1
    THRESHOLD = 2
    ISSUED = 3
    VALIDITY = 4
    COMPANIONS = 5
    ALLOCATION = 6


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    #: the sentence, as a message id and parameters (the pages translate it)
    wording: Wording
    stage: Stage
    #: for ``cap-exceeded``: which cap (``recognised-credits``, ``certificates``...)
    cap: str | None = None

    @property
    def message(self) -> str:
        """The sentence in English (API, CLI)."""
        return self.wording.text


def level_satisfies(level: int, min_level: int) -> bool:
    """A certificate at ``level`` meets a requirement of ``min_level`` or better (L <= M)."""
    return level <= min_level


def grade_meets(grade: Decimal, min_grade: Decimal | None) -> bool:
    return min_grade is None or grade >= min_grade


def add_years(start: date, years: int) -> date:
    """The same calendar day ``years`` later (29 February becomes 28 February); dates past the
    calendar's end stay at its last day rather than failing a read."""
    if start.year + years > date.max.year:
        return date.max
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def within_validity(start: date, valid_years: int | None, as_of: date) -> bool:
    """A source dated ``start`` still counts on ``as_of`` (up to the day before the anniversary)."""
    return valid_years is None or as_of < add_years(start, valid_years)


def mapping_in_force(mapping: Mapping, as_of: date) -> bool:
    """The version is in force on ``as_of``: effective_from <= as_of <= effective_to."""
    if as_of < mapping.effective_from:
        return False
    return mapping.effective_to is None or as_of <= mapping.effective_to


def supersedes(higher: CertificateHolding, lower: CertificateHolding) -> bool:
    """``higher`` is a certificate of the same trade at a strictly higher level than ``lower``."""
    return higher.qualification_code == lower.qualification_code and higher.level < lower.level


def _in_force_refusal(mapping: Mapping, as_of: date) -> Refusal | None:
    if mapping_in_force(mapping, as_of):
        return None
    if mapping.effective_to is None:
        said = wording(
            "mapping {mapping} is in force from {start} until further notice, not on {as_of}",
            mapping=mapping.label,
            start=mapping.effective_from,
            as_of=as_of,
        )
    else:
        said = wording(
            "mapping {mapping} is in force from {start} until {end}, not on {as_of}",
            mapping=mapping.label,
            start=mapping.effective_from,
            end=mapping.effective_to,
            as_of=as_of,
        )
    return Refusal(Reason.MAPPING_NOT_IN_FORCE, said, Stage.IN_FORCE)


def certificate_refusal(
    holding: CertificateHolding,
    requirement: QualificationRequirement,
    mapping: Mapping,
    as_of: date,
) -> Refusal | None:
    """Why ``holding`` cannot serve ``requirement`` of ``mapping`` on ``as_of``, or ``None``."""
    refusal = _in_force_refusal(mapping, as_of)
    if refusal is not None:
        return refusal
    if holding.qualification_code != requirement.code:
        return Refusal(
            Reason.SOURCE_MISMATCH,
            wording(
                "holding {holding} is a {code} certificate; mapping {mapping} asks for "
                "{required} ({name})",
                holding=holding.holding_id,
                code=holding.qualification_code,
                mapping=mapping.label,
                required=requirement.code,
                name=requirement.name,
            ),
            Stage.PROGRAMME,
        )
    if not level_satisfies(holding.level, requirement.min_level):
        return Refusal(
            Reason.BELOW_MIN_LEVEL,
            wording(
                "{name} ({code}) level {level} is below the level {min_level} or better that "
                "mapping {mapping} requires",
                name=requirement.name,
                code=requirement.code,
                level=holding.level,
                min_level=requirement.min_level,
                mapping=mapping.label,
            ),
            Stage.THRESHOLD,
        )
    issued = holding.issued_for(as_of)
    if issued > as_of and not holding.what_if:
        return Refusal(
            Reason.NOT_YET_ISSUED,
            wording(
                "certificate {holding} is issued on {issued}, after {as_of}",
                holding=holding.holding_id,
                issued=issued,
                as_of=as_of,
            ),
            Stage.ISSUED,
        )
    if not within_validity(issued, mapping.valid_years, as_of):
        return Refusal(
            Reason.CERTIFICATE_EXPIRED,
            wording(
                "certificate {holding} issued {issued} counts for {years} years under mapping "
                "{mapping}; it expired on {expired}",
                holding=holding.holding_id,
                issued=issued,
                years=mapping.valid_years,
                mapping=mapping.label,
                expired=add_years(issued, mapping.valid_years or 0),
            ),
            Stage.VALIDITY,
        )
    return None


def credit_refusal(
    holding: CreditHolding, chain: tuple[Mapping, ...], as_of: date
) -> Refusal | None:
    """Why ``holding`` cannot be carried along ``chain`` (credit-recognition hops), or ``None``.

    Each hop is judged with the holding's own grade and date: the strictest hop governs.
    """
    for mapping in chain:
        refusal = _in_force_refusal(mapping, as_of)
        if refusal is not None:
            return refusal
    first = chain[0].source_course
    if first is None or first.key != holding.key:
        return Refusal(
            Reason.SOURCE_MISMATCH,
            wording(
                "holding {holding} is credit in {institution}:{course}, which mapping {mapping} "
                "does not take",
                holding=holding.holding_id,
                institution=holding.institution,
                course=holding.course_code,
                mapping=chain[0].label,
            ),
            Stage.PROGRAMME,
        )
    for mapping in chain:
        min_grade = _min_grade(mapping.source_course)
        if not grade_meets(holding.grade, min_grade):
            return Refusal(
                Reason.GRADE_TOO_LOW,
                wording(
                    "grade {grade} in {institution}:{course} is below the {min_grade} that "
                    "mapping {mapping} requires",
                    grade=holding.grade,
                    institution=holding.institution,
                    course=holding.course_code,
                    min_grade=min_grade,
                    mapping=mapping.label,
                ),
                Stage.THRESHOLD,
            )
    earned = holding.earned_for(as_of)
    if earned > as_of and not holding.what_if:
        return Refusal(
            Reason.NOT_YET_ISSUED,
            wording(
                "credit {holding} is earned on {earned}, after {as_of}",
                holding=holding.holding_id,
                earned=earned,
                as_of=as_of,
            ),
            Stage.ISSUED,
        )
    for mapping in chain:
        if not within_validity(earned, mapping.valid_years, as_of):
            return Refusal(
                Reason.CREDIT_EXPIRED,
                wording(
                    "credit {holding} earned {earned} counts for {years} years under mapping "
                    "{mapping}; it expired on {expired}",
                    holding=holding.holding_id,
                    earned=earned,
                    years=mapping.valid_years,
                    mapping=mapping.label,
                    expired=add_years(earned, mapping.valid_years or 0),
                ),
                Stage.VALIDITY,
            )
    return None


def _min_grade(source: CourseRequirement | None) -> Decimal | None:
    return None if source is None else source.min_grade


# --- caps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CapUse:
    """One cap of a programme: its limit, how much of it is used, and whether it is reached."""

    name: str
    limit: Decimal
    used: Decimal

    @property
    def reached(self) -> bool:
        return self.used >= self.limit

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit


def credit_cap(programme: Programme) -> Decimal | None:
    """The most credit recognition may supply: the smaller of the absolute and share caps."""
    caps = programme.caps
    limits = [
        limit
        for limit in (
            caps.max_recognised_credits,
            None
            if caps.max_recognised_share is None
            else caps.max_recognised_share * programme.total_credits,
        )
        if limit is not None
    ]
    return min(limits) if limits else None


def through_train_cap(programme: Programme) -> Decimal | None:
    """The most credit through-train blocks may carry (the upper share, 60% by default)."""
    return programme.caps.through_train_shares[1] * programme.total_credits


def cap_usage(
    programme: Programme,
    *,
    credits: Decimal,
    certificates: int,
    through_train_credits: Decimal,
) -> tuple[CapUse, ...]:
    """Each cap the programme defines, with the given totals (already posted plus proposed)."""
    uses: list[CapUse] = []
    limit = credit_cap(programme)
    if limit is not None:
        uses.append(CapUse("recognised-credits", limit, credits))
    if programme.caps.max_certificates is not None:
        uses.append(
            CapUse("certificates", Decimal(programme.caps.max_certificates), Decimal(certificates))
        )
    limit = through_train_cap(programme)
    if limit is not None:
        uses.append(CapUse("through-train-credits", limit, through_train_credits))
    return tuple(uses)
