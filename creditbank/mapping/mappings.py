"""A mapping: one registered equivalence that turns a source into credit in named courses.

A mapping belongs to one of the four dual-certificate modes (双证融通). Its *source* is either one
or more vocational qualifications, each with a minimum level, that must all be held together
(certificate modes), or one course of another institution with a minimum grade
(``credit_recognition``). Its *targets* are courses of one programme, with their credits.

A mapping has versions: the same ``mapping_id`` may be re-registered with new terms, each version
in force between its effective dates, so a conversion is always judged by the version in force on
its date. A mapping round-trips through plain JSON (``to_json`` / ``from_json``) because the
accounts layer stores it in a signed ``mapping.registered`` ledger entry.
"""

from __future__ import annotations

from collections.abc import Mapping as AnyMapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from creditbank.errors import CatalogError, MappingFormatError
from creditbank.mapping.courses import Course, CourseKey
from creditbank.mapping.issues import Issue, raise_issues
from creditbank.mapping.values import (
    format_decimal,
    parse_course_source,
    parse_credits,
    parse_date,
    parse_grade,
    parse_level,
    parse_occupation_code,
    parse_positive_int,
)

__all__ = [
    "CERTIFICATE_MODES",
    "CourseRequirement",
    "Mapping",
    "Mode",
    "Qualification",
    "QualificationRequirement",
    "Source",
    "mapping_issues",
]


class Mode(StrEnum):
    """The four dual-certificate (双证融通) modes of the Shanghai scheme."""

    CERTIFICATE_RECOGNITION = "certificate_recognition"  # 证书认可型
    THROUGH_TRAIN = "through_train"  # 直通车式
    CREDIT_RECOGNITION = "credit_recognition"  # 学分认可型
    COURSE_RESTRUCTURING = "course_restructuring"  # 课程重组型


#: Modes whose source is a vocational certificate (the others take a course credit).
CERTIFICATE_MODES = frozenset(
    {Mode.CERTIFICATE_RECOGNITION, Mode.THROUGH_TRAIN, Mode.COURSE_RESTRUCTURING}
)


@dataclass(frozen=True)
class Qualification:
    """An occupation of the national classification (职业分类大典), e.g. 6-18-02-04 焊工."""

    code: str
    name: str


@dataclass(frozen=True)
class QualificationRequirement:
    """A certificate of ``code`` at ``min_level`` or better (a smaller number is a higher level)."""

    code: str
    name: str
    min_level: int

    @property
    def label(self) -> str:
        return self.code


@dataclass(frozen=True)
class CourseRequirement:
    """Credit earned in a course of another institution, with at least ``min_grade`` if set."""

    institution: str
    course_code: str
    title: str
    min_grade: Decimal | None = None

    @property
    def key(self) -> CourseKey:
        return (self.institution, self.course_code)

    @property
    def label(self) -> str:
        return f"{self.institution}:{self.course_code}"


Source = QualificationRequirement | CourseRequirement


@dataclass(frozen=True)
class Mapping:
    """One version of a registered equivalence. Construction refuses an invalid mapping."""

    mapping_id: str
    version: int
    mode: Mode
    provider: str
    programme_code: str
    effective_from: date
    effective_to: date | None
    valid_years: int | None
    sources: tuple[Source, ...]
    targets: tuple[Course, ...]

    def __post_init__(self) -> None:
        raise_issues(
            mapping_issues(
                mapping_id=self.mapping_id,
                version=self.version,
                mode=self.mode,
                effective_from=self.effective_from,
                effective_to=self.effective_to,
                valid_years=self.valid_years,
                sources=self.sources,
                targets=self.targets,
            )
        )

    @property
    def label(self) -> str:
        return f"{self.mapping_id} v{self.version}"

    @property
    def institution(self) -> str:
        return self.targets[0].institution

    @property
    def qualification_requirements(self) -> tuple[QualificationRequirement, ...]:
        return tuple(s for s in self.sources if isinstance(s, QualificationRequirement))

    @property
    def source_course(self) -> CourseRequirement | None:
        courses = [s for s in self.sources if isinstance(s, CourseRequirement)]
        return courses[0] if courses else None

    @property
    def target_credits(self) -> Decimal:
        return sum((t.credits for t in self.targets), Decimal(0))

    def target(self, course_code: str) -> Course | None:
        for course in self.targets:
            if course.course_code == course_code:
                return course
        return None

    def to_json(self) -> dict[str, Any]:
        """The plain, JSON-safe form stored in a ledger entry (credits and grades as strings)."""
        return {
            "mapping_id": self.mapping_id,
            "version": self.version,
            "mode": self.mode.value,
            "provider": self.provider,
            "programme_code": self.programme_code,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "valid_years": self.valid_years,
            "sources": [_source_to_json(s) for s in self.sources],
            "targets": [
                {
                    "institution": t.institution,
                    "course_code": t.course_code,
                    "course_title": t.title,
                    "credits": format_decimal(t.credits),
                }
                for t in self.targets
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> Mapping:
        """Rebuild a mapping from :meth:`to_json` output; raise ``MappingFormatError`` if bad."""
        try:
            obj = _object(data, _MAPPING_KEYS, "mapping")
            mode = Mode(_text(obj, "mode"))
            return cls(
                mapping_id=_text(obj, "mapping_id"),
                version=parse_positive_int(_int(obj, "version"), "version"),
                mode=mode,
                provider=_text(obj, "provider"),
                programme_code=_text(obj, "programme_code"),
                effective_from=parse_date(_text(obj, "effective_from"), "effective_from"),
                effective_to=(
                    None
                    if obj["effective_to"] is None
                    else parse_date(_text(obj, "effective_to"), "effective_to")
                ),
                valid_years=(
                    None
                    if obj["valid_years"] is None
                    else parse_positive_int(_int(obj, "valid_years"), "valid_years")
                ),
                sources=tuple(_source_from_json(s) for s in _list(obj, "sources")),
                targets=tuple(_target_from_json(t) for t in _list(obj, "targets")),
            )
        except (ValueError, TypeError, CatalogError) as exc:
            raise MappingFormatError(f"invalid mapping JSON: {exc}") from exc


def mapping_issues(
    *,
    mapping_id: str,
    version: int,
    mode: Mode,
    effective_from: date,
    effective_to: date | None,
    valid_years: int | None,
    sources: Sequence[Source],
    targets: Sequence[Course],
) -> list[Issue]:
    """Everything wrong with one mapping taken on its own (not against the programmes)."""

    def issue(message: str, **where: Any) -> Issue:
        return Issue(message, mapping_id=mapping_id, version=version, **where)

    issues: list[Issue] = []
    if not mapping_id:
        issues.append(issue("mapping_id must not be empty", field="mapping_id"))
    if version < 1:
        issues.append(issue("version must be at least 1", field="version"))
    if valid_years is not None and valid_years < 1:
        issues.append(issue("valid_years must be at least 1 (or blank: no limit)"))
    if effective_to is not None and effective_to < effective_from:
        issues.append(
            issue(
                f"effective_to {effective_to} is before effective_from {effective_from}",
                field="effective_to",
            )
        )
    if not targets:
        issues.append(issue("a mapping needs at least one target course", field="course_code"))
    if len({t.institution for t in targets}) > 1:
        issues.append(
            issue("all target courses must belong to one institution", field="institution")
        )
    if len({t.course_code for t in targets}) != len(targets):
        issues.append(issue("a target course is listed twice", field="course_code"))
    if not sources:
        issues.append(issue("a mapping needs at least one source", field="qualification_code"))
    if mode is Mode.CREDIT_RECOGNITION:
        if len(sources) > 1 or any(not isinstance(s, CourseRequirement) for s in sources):
            issues.append(
                issue(
                    "a credit_recognition mapping takes exactly one source course "
                    "(INSTITUTION:COURSE_CODE); use one mapping per source course",
                    field="qualification_code",
                )
            )
        source = sources[0] if sources else None
        if isinstance(source, CourseRequirement) and any(t.key == source.key for t in targets):
            issues.append(
                issue(
                    "a course cannot be recognised for itself",
                    source_code=source.label,
                    field="qualification_code",
                )
            )
    else:
        if any(not isinstance(s, QualificationRequirement) for s in sources):
            issues.append(
                issue(f"a {mode.value} mapping takes qualifications, not courses", field="mode")
            )
        codes = [s.code for s in sources if isinstance(s, QualificationRequirement)]
        if len(set(codes)) != len(codes):
            issues.append(issue("a qualification is required twice", field="qualification_code"))
    for source in sources:
        if isinstance(source, QualificationRequirement) and not 1 <= source.min_level <= 5:
            issues.append(
                issue("min_level must be from 1 to 5", source_code=source.code, field="min_level")
            )
    return issues


_MAPPING_KEYS = frozenset(
    {
        "mapping_id",
        "version",
        "mode",
        "provider",
        "programme_code",
        "effective_from",
        "effective_to",
        "valid_years",
        "sources",
        "targets",
    }
)
_QUALIFICATION_KEYS = frozenset({"kind", "qualification_code", "qualification_name", "min_level"})
_COURSE_SOURCE_KEYS = frozenset({"kind", "institution", "course_code", "course_title", "min_grade"})
_TARGET_KEYS = frozenset({"institution", "course_code", "course_title", "credits"})


def _source_to_json(source: Source) -> dict[str, Any]:
    if isinstance(source, QualificationRequirement):
        return {
            "kind": "qualification",
            "qualification_code": source.code,
            "qualification_name": source.name,
            "min_level": source.min_level,
        }
    return {
        "kind": "course",
        "institution": source.institution,
        "course_code": source.course_code,
        "course_title": source.title,
        "min_grade": None if source.min_grade is None else format_decimal(source.min_grade),
    }


def _source_from_json(data: object) -> Source:
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "qualification":
        obj = _object(data, _QUALIFICATION_KEYS, "qualification source")
        return QualificationRequirement(
            code=parse_occupation_code(_text(obj, "qualification_code")),
            name=_text(obj, "qualification_name"),
            min_level=parse_level(_int(obj, "min_level"), "min_level"),
        )
    if kind == "course":
        obj = _object(data, _COURSE_SOURCE_KEYS, "course source")
        institution, course_code = parse_course_source(
            f"{_text(obj, 'institution')}:{_text(obj, 'course_code')}", "course source"
        )
        grade = obj["min_grade"]
        return CourseRequirement(
            institution=institution,
            course_code=course_code,
            title=_text(obj, "course_title"),
            min_grade=None if grade is None else parse_grade(_text(obj, "min_grade"), "min_grade"),
        )
    raise ValueError(f"a source needs kind 'qualification' or 'course', got {data!r}")


def _target_from_json(data: object) -> Course:
    obj = _object(data, _TARGET_KEYS, "target")
    return Course(
        institution=_text(obj, "institution"),
        course_code=_text(obj, "course_code"),
        title=_text(obj, "course_title"),
        credits=parse_credits(_text(obj, "credits")),
    )


def _object(data: object, keys: frozenset[str], what: str) -> AnyMapping[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be an object, got {type(data).__name__}")
    if set(data) != keys:
        missing = sorted(keys - set(data))
        extra = sorted(set(data) - keys)
        raise ValueError(f"{what} has missing keys {missing} / unknown keys {extra}")
    return data


def _text(obj: AnyMapping[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _int(obj: AnyMapping[str, Any], key: str) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    return value


def _list(obj: AnyMapping[str, Any], key: str) -> list[Any]:
    value = obj[key]
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list, got {type(value).__name__}")
    return value
