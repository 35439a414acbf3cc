"""Checks that programmes and mappings agree with each other.

Each mapping and programme is valid on its own by construction; these checks are about the
catalogue as a whole: a mapping's target courses exist in its programme with the same credits, the
versions of one mapping do not overlap in time, a qualification has one name, a through-train block
fits the programme's through-train share, and course-to-course recognition within one institution
has no cycle. The same function serves a catalogue built in memory and one loaded from CSV.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from creditbank.mapping.courses import Course, CourseKey, Programme
from creditbank.mapping.cycles import institution_cycles
from creditbank.mapping.issues import Issue
from creditbank.mapping.mappings import Mapping, Mode, QualificationRequirement
from creditbank.mapping.values import format_decimal

__all__ = ["catalog_issues"]


def catalog_issues(programmes: Sequence[Programme], mappings: Sequence[Mapping]) -> list[Issue]:
    """Every disagreement between programmes and mappings, in a stable order."""
    issues: list[Issue] = []
    by_code: dict[str, Programme] = {}
    for programme in programmes:
        if programme.code in by_code:
            issues.append(Issue("programme defined twice", programme_code=programme.code))
        by_code[programme.code] = programme
    issues += _shared_course_issues(programmes)
    for mapping in mappings:
        issues += _fit_issues(mapping, by_code.get(mapping.programme_code))
    issues += _version_issues(mappings)
    issues += _qualification_name_issues(mappings)
    for cycle in institution_cycles(mappings):
        first = cycle[0]
        ring = " -> ".join(f"{step.source.label}" for step in cycle)
        issues.append(
            Issue(
                f"course recognition within {first.source.institution} loops back on itself "
                f"({ring} -> {first.source.label}); within one institution recognition must "
                "run one way",
                mapping_id=first.mapping.mapping_id,
                version=first.mapping.version,
                source_code=first.source.label,
                field="qualification_code",
            )
        )
    return issues


def _shared_course_issues(programmes: Sequence[Programme]) -> list[Issue]:
    """A course shared by several programmes of an institution has one title and one credit."""
    first_seen: dict[CourseKey, tuple[Programme, Course]] = {}
    issues: list[Issue] = []
    for programme in programmes:
        for course in programme.courses:
            seen = first_seen.setdefault(course.key, (programme, course))
            other_programme, other = seen
            if other.credits != course.credits:
                issues.append(
                    Issue(
                        f"course has {course.credits} credits here but {other.credits} in "
                        f"programme {other_programme.code}",
                        programme_code=programme.code,
                        course_code=course.course_code,
                        field="credits",
                    )
                )
            if other.title != course.title:
                issues.append(
                    Issue(
                        f"course is titled {course.title!r} here but {other.title!r} in "
                        f"programme {other_programme.code}",
                        programme_code=programme.code,
                        course_code=course.course_code,
                        field="course_title",
                    )
                )
    return issues


def _fit_issues(mapping: Mapping, programme: Programme | None) -> list[Issue]:
    """The mapping's targets must be courses of its programme, credited as the programme says."""
    if programme is None:
        return [
            Issue(
                f"unknown programme {mapping.programme_code}",
                field="programme_code",
                mapping_id=mapping.mapping_id,
                version=mapping.version,
            )
        ]
    issues: list[Issue] = []
    for target in mapping.targets:
        if target.institution != programme.institution:
            issues.append(
                Issue(
                    f"programme {programme.code} belongs to {programme.institution}, "
                    f"not {target.institution}",
                    course_code=target.course_code,
                    field="institution",
                    mapping_id=mapping.mapping_id,
                    version=mapping.version,
                )
            )
            continue
        course = programme.course(target.course_code)
        if course is None:
            issues.append(
                Issue(
                    f"course is not part of programme {programme.code}",
                    course_code=target.course_code,
                    field="course_code",
                    mapping_id=mapping.mapping_id,
                    version=mapping.version,
                )
            )
            continue
        if course.credits != target.credits:
            issues.append(
                Issue(
                    f"course credits {target.credits} differ from the {course.credits} of "
                    f"programme {programme.code}",
                    course_code=target.course_code,
                    field="credits",
                    mapping_id=mapping.mapping_id,
                    version=mapping.version,
                )
            )
        if course.title != target.title:
            issues.append(
                Issue(
                    f"course title {target.title!r} differs from {course.title!r} in "
                    f"programme {programme.code}",
                    course_code=target.course_code,
                    field="course_title",
                    mapping_id=mapping.mapping_id,
                    version=mapping.version,
                )
            )
    if mapping.mode is Mode.THROUGH_TRAIN:
        issues.extend(_block_issues(mapping, programme))
    return issues


def _block_issues(mapping: Mapping, programme: Programme) -> list[Issue]:
    """A through-train block carries between the programme's lower and upper share, whole."""
    lower, upper = programme.caps.through_train_shares
    low, high = lower * programme.total_credits, upper * programme.total_credits
    if low <= mapping.target_credits <= high:
        return []
    side = "less than the lower" if mapping.target_credits < low else "more than the upper"
    return [
        Issue(
            f"through-train block of {mapping.target_credits} credits is {side} bound of "
            f"programme {programme.code}: a block carries {format(lower, 'f')} to "
            f"{format(upper, 'f')} of its {programme.total_credits} credits "
            f"({format_decimal(low)} to {format_decimal(high)})"
            f" / 直通车课程块须占总学分的 {lower:.0%} 至 {upper:.0%}",
            field="credits",
            mapping_id=mapping.mapping_id,
            version=mapping.version,
        )
    ]


def _version_issues(mappings: Sequence[Mapping]) -> list[Issue]:
    """Versions of one mapping_id keep mode, provider and programme and never overlap in time."""
    versions: dict[str, list[Mapping]] = defaultdict(list)
    for mapping in mappings:
        versions[mapping.mapping_id].append(mapping)
    issues: list[Issue] = []
    for group in versions.values():
        group.sort(key=lambda m: (m.version, m.effective_from))
        base = group[0]
        for previous, mapping in zip(group, group[1:], strict=False):
            if mapping.version == previous.version:
                issues.append(
                    Issue(
                        "the same version is registered twice",
                        field="version",
                        mapping_id=mapping.mapping_id,
                        version=mapping.version,
                    )
                )
                continue
            if previous.effective_to is None or previous.effective_to >= mapping.effective_from:
                issues.append(
                    Issue(
                        f"in force from {mapping.effective_from}, while version "
                        f"{previous.version} is in force until "
                        f"{previous.effective_to or 'further notice'}; versions must not overlap",
                        field="effective_from",
                        mapping_id=mapping.mapping_id,
                        version=mapping.version,
                    )
                )
        for mapping in group[1:]:
            for name in ("mode", "provider", "programme_code"):
                if getattr(mapping, name) != getattr(base, name):
                    issues.append(
                        Issue(
                            f"{name} {getattr(mapping, name)} differs from version "
                            f"{base.version}'s {getattr(base, name)}; a new {name} needs a new "
                            "mapping_id",
                            field=name,
                            mapping_id=mapping.mapping_id,
                            version=mapping.version,
                        )
                    )
    return issues


def _qualification_name_issues(mappings: Sequence[Mapping]) -> list[Issue]:
    names: dict[str, tuple[str, Mapping]] = {}
    issues: list[Issue] = []
    for mapping in mappings:
        for source in mapping.sources:
            if not isinstance(source, QualificationRequirement):
                continue
            name, first = names.setdefault(source.code, (source.name, mapping))
            if name != source.name:
                issues.append(
                    Issue(
                        f"qualification is named {source.name!r} here but {name!r} in "
                        f"mapping {first.label}",
                        mapping_id=mapping.mapping_id,
                        version=mapping.version,
                        source_code=source.code,
                        field="qualification_name",
                    )
                )
    return issues
