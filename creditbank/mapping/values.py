"""Parsers for the single values the catalogue and holdings are made of.

The CSV loader, ``Mapping.from_json`` and the holdings parser all read the same kinds of value
(credits, levels, dates, occupation codes). Each parser here raises ``ValueError`` with a message a
person can act on; the caller adds *where* (file, line and column, or a JSON key) and turns it into
its own domain error. Credits are ``Decimal`` and nothing here ever produces a float.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

__all__ = [
    "HIGHEST_LEVEL",
    "LOWEST_LEVEL",
    "decimal_places",
    "format_decimal",
    "parse_course_source",
    "parse_credits",
    "parse_date",
    "parse_grade",
    "parse_level",
    "parse_occupation_code",
    "parse_positive_int",
    "parse_share",
]

#: Level 1 is 高级技师 (senior technician), level 5 is 初级工 (junior worker).
HIGHEST_LEVEL = 1
LOWEST_LEVEL = 5

# 职业分类大典 (2022): major category digit, then medium, minor and detail groups of two digits.
_OCCUPATION_CODE = re.compile(r"^[1-8]-\d{2}-\d{2}-\d{2}$")
# An external course as a credit-recognition source: INSTITUTION:COURSE_CODE.
_COURSE_SOURCE = re.compile(r"^([A-Z][A-Z0-9]{1,15}):([A-Za-z0-9][A-Za-z0-9._-]{0,31})$")
_DECIMAL_TEXT = re.compile(r"^\d+(\.\d+)?$")


def _decimal(text: str | int | Decimal, what: str) -> Decimal:
    if isinstance(text, bool):
        raise ValueError(f"{what} must be a number, got {text!r}")
    if isinstance(text, int | Decimal):
        value = Decimal(text)
    elif isinstance(text, str):
        if not _DECIMAL_TEXT.match(text.strip()):
            raise ValueError(f"{what} must be a non-negative decimal like 2 or 2.5, got {text!r}")
        try:
            value = Decimal(text.strip())
        except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
            raise ValueError(f"{what} is not a number: {text!r}") from exc
    else:
        raise ValueError(
            f'{what} must be a string like "2.5" or an integer (never a float), got {text!r}'
        )
    if not value.is_finite() or value < 0:
        raise ValueError(f"{what} must be a non-negative number, got {text!r}")
    return value


def parse_credits(text: str | int | Decimal, what: str = "credits") -> Decimal:
    """Credits: an exact positive decimal with at most two places ("2", "2.5")."""
    value = _decimal(text, what)
    if value <= 0:
        raise ValueError(f"{what} must be greater than 0, got {text!r}")
    if decimal_places(value) > 2:
        raise ValueError(f"{what} may have at most two decimal places, got {text!r}")
    return value


def parse_grade(text: str | int | Decimal, what: str = "grade") -> Decimal:
    """A percentage grade (百分制) from 0 to 100."""
    value = _decimal(text, what)
    if value > 100:
        raise ValueError(f"{what} must be between 0 and 100, got {text!r}")
    return value


def parse_share(text: str | int | Decimal, what: str) -> Decimal:
    """A share of a programme's credits, written as a fraction in (0, 1] such as 0.6."""
    value = _decimal(text, what)
    if not 0 < value <= 1:
        raise ValueError(f"{what} must be a fraction greater than 0 and at most 1, got {text!r}")
    return value


def parse_level(text: str | int, what: str = "level") -> int:
    """A vocational skill level, 1 (高级技师, highest) to 5 (初级工)."""
    if isinstance(text, bool):
        raise ValueError(f"{what} must be an integer from 1 to 5, got {text!r}")
    if isinstance(text, str):
        if not text.strip().isdigit():
            raise ValueError(f"{what} must be an integer from 1 (highest) to 5, got {text!r}")
        text = int(text.strip())
    if not isinstance(text, int) or not HIGHEST_LEVEL <= text <= LOWEST_LEVEL:
        raise ValueError(f"{what} must be from 1 (高级技师, highest) to 5 (初级工), got {text!r}")
    return text


def parse_positive_int(text: str | int, what: str) -> int:
    """A whole number of at least 1 (versions, years, certificate counts)."""
    if isinstance(text, str) and text.strip().isdigit():
        text = int(text.strip())
    if isinstance(text, bool) or not isinstance(text, int) or text < 1:
        raise ValueError(f"{what} must be a whole number of at least 1, got {text!r}")
    return text


def parse_date(text: str, what: str = "date") -> date:
    """An ISO 8601 calendar date, YYYY-MM-DD."""
    if not isinstance(text, str) or len(text.strip()) != 10:
        raise ValueError(f"{what} must be an ISO date YYYY-MM-DD, got {text!r}")
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{what} is not a valid ISO date YYYY-MM-DD: {text!r}") from exc
    # Bounded so that adding any validity period to a date stays a date (9999-12-31 + 5 years
    # would crash every later read).
    if not _FIRST_DAY <= day <= _LAST_DAY:
        raise ValueError(f"{what} must be between {_FIRST_DAY} and {_LAST_DAY}, got {text!r}")
    return day


_FIRST_DAY = date(1900, 1, 1)
_LAST_DAY = date(2999, 12, 31)


def parse_occupation_code(text: str, what: str = "qualification_code") -> str:
    """An occupation code of the national occupational classification, e.g. 6-18-02-04."""
    if not isinstance(text, str) or not _OCCUPATION_CODE.match(text.strip()):
        raise ValueError(
            f"{what} must be an occupation code of the 2022 classification like 6-18-02-04, "
            f"got {text!r}"
        )
    return text.strip()


def parse_course_source(text: str, what: str = "qualification_code") -> tuple[str, str]:
    """An external course named as ``INSTITUTION:COURSE_CODE`` (credit-recognition sources)."""
    match = _COURSE_SOURCE.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{what} of a credit_recognition row must name a course as INSTITUTION:COURSE_CODE "
            f"(e.g. SSPU:ME1021), got {text!r}"
        )
    return match.group(1), match.group(2)


def decimal_places(value: Decimal) -> int:
    """How many digits a decimal has after the point, ignoring trailing zeros."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def format_decimal(value: Decimal) -> str:
    """The JSON form of credits and grades: a plain string without exponent ("2.5", "40")."""
    return format(value.normalize(), "f")
