"""What a worker brings: certificates (with level and issue date) and earned course credits.

The planner and :func:`~creditbank.mapping.evaluation.evaluate` take holdings as values. A holding
marked ``what_if`` is hypothetical (a certificate not yet earned): it is planned as if held, so a
worker can see what the next level would add; a what-if holding may omit its date, in which case it
counts as issued on the conversion date. The documented file format is parsed by
:func:`parse_holdings`; see ``docs/qualification-map.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from creditbank.errors import HoldingsError
from creditbank.mapping.courses import CourseKey
from creditbank.mapping.values import (
    parse_course_source,
    parse_credits,
    parse_date,
    parse_grade,
    parse_level,
    parse_occupation_code,
)

__all__ = ["CertificateHolding", "CreditHolding", "Holding", "Holdings", "parse_holdings"]


@dataclass(frozen=True)
class CertificateHolding:
    """A vocational certificate: an occupation code at a level, issued on a date."""

    holding_id: str
    qualification_code: str
    level: int
    issued_on: date | None
    what_if: bool = False

    def __post_init__(self) -> None:
        _check_id(self.holding_id)
        try:
            parse_occupation_code(self.qualification_code)
            parse_level(self.level)
        except ValueError as exc:
            raise HoldingsError(f"holding {self.holding_id}: {exc}") from exc
        if self.issued_on is None and not self.what_if:
            raise HoldingsError(
                f"holding {self.holding_id}: issued_on is required (unless what_if)"
            )

    def issued_for(self, as_of: date) -> date:
        """The issue date used for validity (a dateless what-if certificate: the as-of date)."""
        return self.issued_on if self.issued_on is not None else as_of

    @property
    def label(self) -> str:
        return f"{self.holding_id} ({self.qualification_code} level {self.level})"


@dataclass(frozen=True)
class CreditHolding:
    """Credits earned in a course of some institution, with the percentage grade obtained."""

    holding_id: str
    institution: str
    course_code: str
    credits: Decimal
    grade: Decimal
    earned_on: date | None
    what_if: bool = False

    def __post_init__(self) -> None:
        _check_id(self.holding_id)
        try:
            parse_course_source(f"{self.institution}:{self.course_code}", "course")
            parse_credits(self.credits)
            parse_grade(self.grade)
        except ValueError as exc:
            raise HoldingsError(f"holding {self.holding_id}: {exc}") from exc
        if self.earned_on is None and not self.what_if:
            raise HoldingsError(
                f"holding {self.holding_id}: earned_on is required (unless what_if)"
            )

    def earned_for(self, as_of: date) -> date:
        return self.earned_on if self.earned_on is not None else as_of

    @property
    def key(self) -> CourseKey:
        return (self.institution, self.course_code)

    @property
    def label(self) -> str:
        return f"{self.holding_id} ({self.institution}:{self.course_code} grade {self.grade})"


Holding = CertificateHolding | CreditHolding


@dataclass(frozen=True)
class Holdings:
    """All of one worker's holdings; holding ids are unique across both kinds."""

    certificates: tuple[CertificateHolding, ...] = ()
    credits: tuple[CreditHolding, ...] = ()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for holding in self:
            if holding.holding_id in seen:
                raise HoldingsError(f"holding id {holding.holding_id!r} is used twice")
            seen.add(holding.holding_id)

    def __iter__(self) -> Iterator[Holding]:
        yield from self.certificates
        yield from self.credits

    def get(self, holding_id: str) -> Holding | None:
        for holding in self:
            if holding.holding_id == holding_id:
                return holding
        return None


_DOCUMENT_KEYS = {"certificates", "credits", "learner"}
_CERTIFICATE_KEYS = {"holding_id", "qualification_code", "level", "issued_on", "what_if"}
_CREDIT_KEYS = {
    "holding_id",
    "institution",
    "course_code",
    "credits",
    "grade",
    "earned_on",
    "what_if",
}
_OPTIONAL = {"what_if", "issued_on", "earned_on", "learner", "certificates", "credits"}


def parse_holdings(document: object) -> Holdings:
    """Parse the holdings file format (a JSON object); raise ``HoldingsError`` naming the item."""
    obj = _object(document, _DOCUMENT_KEYS, "holdings")
    certificates = tuple(
        _certificate(item, f"certificates[{i}]")
        for i, item in enumerate(_list(obj.get("certificates", []), "certificates"))
    )
    credits = tuple(
        _credit(item, f"credits[{i}]")
        for i, item in enumerate(_list(obj.get("credits", []), "credits"))
    )
    return Holdings(certificates=certificates, credits=credits)


def _certificate(item: object, where: str) -> CertificateHolding:
    obj = _object(item, _CERTIFICATE_KEYS, where)
    what_if = _flag(obj, where)
    try:
        issued = obj.get("issued_on")
        return CertificateHolding(
            holding_id=_text(obj, "holding_id", where),
            qualification_code=parse_occupation_code(_text(obj, "qualification_code", where)),
            level=parse_level(obj.get("level", ""), "level"),
            issued_on=None if issued is None else parse_date(issued, "issued_on"),
            what_if=what_if,
        )
    except ValueError as exc:
        raise HoldingsError(f"{where}: {exc}") from exc


def _credit(item: object, where: str) -> CreditHolding:
    obj = _object(item, _CREDIT_KEYS, where)
    what_if = _flag(obj, where)
    try:
        earned = obj.get("earned_on")
        return CreditHolding(
            holding_id=_text(obj, "holding_id", where),
            institution=_text(obj, "institution", where),
            course_code=_text(obj, "course_code", where),
            credits=parse_credits(obj.get("credits", "")),
            grade=parse_grade(obj.get("grade", ""), "grade"),
            earned_on=None if earned is None else parse_date(earned, "earned_on"),
            what_if=what_if,
        )
    except ValueError as exc:
        raise HoldingsError(f"{where}: {exc}") from exc


def _check_id(holding_id: str) -> None:
    if not isinstance(holding_id, str) or not holding_id.strip():
        raise HoldingsError(f"a holding needs a non-empty holding_id, got {holding_id!r}")


def _object(item: object, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise HoldingsError(f"{where} must be a JSON object, got {type(item).__name__}")
    unknown = sorted(set(item) - keys)
    if unknown:
        raise HoldingsError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(keys)}")
    missing = sorted(keys - _OPTIONAL - set(item))
    if missing:
        raise HoldingsError(f"{where}: missing key(s) {missing}")
    return item


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise HoldingsError(f"{where} must be a JSON array, got {type(value).__name__}")
    return value


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise HoldingsError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


def _flag(obj: dict[str, Any], where: str) -> bool:
    value = obj.get("what_if", False)
    if not isinstance(value, bool):
        raise HoldingsError(f"{where}: what_if must be true or false, got {value!r}")
    return value
