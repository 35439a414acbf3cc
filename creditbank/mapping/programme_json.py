"""A programme's JSON form: what a ``programme.registered`` entry signs (issue 12).

The same fields ``programmes.csv`` has (one programme, its caps and its courses), with credits and
shares as decimal strings so the signed bytes never hold a binary float. Reading it back builds
a :class:`Programme`, whose constructor runs the very checks the CSV loader runs, so a programme
can reach the log only if it would have loaded from the file.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from creditbank.errors import CatalogError, MappingFormatError
from creditbank.mapping.courses import Course, Programme, ProgrammeCaps
from creditbank.mapping.values import (
    format_decimal,
    parse_credits,
    parse_positive_int,
    parse_share,
)

__all__ = ["programme_from_json", "programme_to_json"]

_KEYS = {"code", "institution", "title", "total_credits", "caps", "courses"}
_CAP_KEYS = {
    "max_recognised_credits",
    "max_recognised_share",
    "max_certificates",
    "max_through_train_share",
    "min_through_train_share",
}
_COURSE_KEYS = {"course_code", "title", "credits"}
_T = TypeVar("_T")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


def programme_to_json(programme: Programme) -> dict[str, Any]:
    """The plain, JSON-safe form of a programme (its courses belong to its institution)."""
    caps = programme.caps
    return {
        "code": programme.code,
        "institution": programme.institution,
        "title": programme.title,
        "total_credits": format_decimal(programme.total_credits),
        "caps": {
            "max_recognised_credits": _text(caps.max_recognised_credits),
            "max_recognised_share": _text(caps.max_recognised_share),
            "max_certificates": caps.max_certificates,
            "max_through_train_share": _text(caps.max_through_train_share),
            "min_through_train_share": _text(caps.min_through_train_share),
        },
        "courses": [
            {"course_code": c.course_code, "title": c.title, "credits": format_decimal(c.credits)}
            for c in programme.courses
        ],
    }


def _object(data: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) != keys:
        raise ValueError(f"{what} must be an object with exactly the keys {sorted(keys)}")
    return data


def _string(obj: dict[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _optional(obj: dict[str, Any], key: str, parse: Callable[[Any, str], _T]) -> _T | None:
    value = obj[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} must be a string, a whole number or null")
    return parse(value, key)


def programme_from_json(data: object) -> Programme:
    """Rebuild a programme from :func:`programme_to_json` output.

    Raises ``MappingFormatError`` for a malformed form and ``CatalogError`` for a programme that
    breaks its own rules (a cap above the total, courses that do not add up...)."""
    try:
        obj = _object(data, _KEYS, "programme")
        caps_obj = _object(obj["caps"], _CAP_KEYS, "programme.caps")
        institution = _string(obj, "institution")
        courses_data = obj["courses"]
        if not isinstance(courses_data, list) or not courses_data:
            raise ValueError("courses must be a non-empty list")
        courses = []
        for item in courses_data:
            course = _object(item, _COURSE_KEYS, "course")
            credits = course["credits"]
            if not isinstance(credits, str):
                raise ValueError("course credits must be a decimal string")
            courses.append(
                Course(
                    institution,
                    _string(course, "course_code"),
                    _string(course, "title"),
                    parse_credits(credits),
                )
            )
        total = obj["total_credits"]
        if not isinstance(total, str):
            raise ValueError("total_credits must be a decimal string")
        caps = ProgrammeCaps(
            max_recognised_credits=_optional(caps_obj, "max_recognised_credits", parse_credits),
            max_recognised_share=_optional(caps_obj, "max_recognised_share", parse_share),
            max_certificates=_optional(caps_obj, "max_certificates", parse_positive_int),
            max_through_train_share=_optional(caps_obj, "max_through_train_share", parse_share),
            min_through_train_share=_optional(caps_obj, "min_through_train_share", parse_share),
        )
    except (ValueError, TypeError) as exc:
        raise MappingFormatError(f"invalid programme JSON: {exc}") from exc
    codes = [c.course_code for c in courses]
    if len(set(codes)) != len(codes):
        raise CatalogError([f"programme {obj['code']} lists a course twice"])
    return Programme(
        _string(obj, "code"),
        institution,
        _string(obj, "title"),
        parse_credits(total),
        caps,
        tuple(courses),
    )
