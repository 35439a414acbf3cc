"""What a conversion produces: recognitions, unused holdings with reasons, and the plan.

These are plain frozen values with a JSON form (credits as strings, dates as ISO strings) so the
CLI and the API can print or return them without knowing how they were computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from creditbank.mapping.courses import Course
from creditbank.mapping.graph import PathStep
from creditbank.mapping.mappings import Mode
from creditbank.mapping.posted import PostedRecognition
from creditbank.mapping.rules import CapUse, Reason
from creditbank.mapping.values import format_decimal
from creditbank.mapping.wording import Wording

__all__ = ["Plan", "Proposal", "Recognition", "UnusedHolding"]


@dataclass(frozen=True)
class Proposal:
    """What a registrar posts: credit ``course_code`` from the holdings ``sources`` (their ids)
    under the mapping ``mapping_id`` (the version in force on the conversion date)."""

    course_code: str
    mapping_id: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Recognition:
    """One course recognised, the source and mapping that earned it, and why.

    ``rule`` names the rule that admitted it: ``level-threshold`` (a certificate at or above the
    required level), ``many-to-one`` (certificates required together), ``top-up`` (a higher
    certificate of a trade already used at a lower level), ``grade-threshold`` (a course credit
    with the required grade) or ``articulation`` (a credit carried through several recognitions).
    """

    course: Course
    credits: Decimal
    source_holding_ids: tuple[str, ...]
    mapping_id: str
    version: int
    mode: Mode
    rule: str
    #: the explanation as a sentence (message id and parameters; the pages translate it)
    wording: Wording
    path: tuple[PathStep, ...]
    what_if: bool = False

    @property
    def explanation(self) -> str:
        """The explanation in English (API, CLI)."""
        return self.wording.text

    @property
    def course_code(self) -> str:
        return self.course.course_code

    def as_posted(self) -> PostedRecognition:
        return PostedRecognition(
            self.course.course_code,
            self.credits,
            self.source_holding_ids,
            self.mapping_id,
            self.mode,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "course_code": self.course.course_code,
            "course_title": self.course.title,
            "credits": format_decimal(self.credits),
            "source_holding_ids": list(self.source_holding_ids),
            "mapping_id": self.mapping_id,
            "version": self.version,
            "mode": self.mode.value,
            "rule": self.rule,
            "explanation": self.explanation,
            "path": [str(step) for step in self.path],
            "what_if": self.what_if,
        }


@dataclass(frozen=True)
class UnusedHolding:
    """A holding the plan does not use, with the reason code and a sentence."""

    holding_id: str
    reason: Reason
    wording: Wording
    what_if: bool = False

    @property
    def message(self) -> str:
        """Why, in English (API, CLI)."""
        return self.wording.text

    def to_json(self) -> dict[str, Any]:
        return {
            "holding_id": self.holding_id,
            "reason": self.reason.value,
            "message": self.message,
            "what_if": self.what_if,
        }


@dataclass(frozen=True)
class Plan:
    """The best allocation of a learner's holdings toward one programme on one date."""

    programme_code: str
    as_of: date
    programme_credits: Decimal
    recognitions: tuple[Recognition, ...]
    unused: tuple[UnusedHolding, ...]
    already_recognised: Decimal
    courses_missing: tuple[Course, ...]
    caps: tuple[CapUse, ...]
    #: names of caps that are full or that stopped a recognition
    caps_reached: tuple[str, ...]

    @property
    def new_credits(self) -> Decimal:
        return sum((r.credits for r in self.recognitions), Decimal(0))

    @property
    def what_if_credits(self) -> Decimal:
        return sum((r.credits for r in self.recognitions if r.what_if), Decimal(0))

    @property
    def total_recognised(self) -> Decimal:
        return self.already_recognised + self.new_credits

    @property
    def credits_missing(self) -> Decimal:
        return max(Decimal(0), self.programme_credits - self.total_recognised)

    def to_json(self) -> dict[str, Any]:
        return {
            "programme_code": self.programme_code,
            "as_of": self.as_of.isoformat(),
            "programme_credits": format_decimal(self.programme_credits),
            "already_recognised": format_decimal(self.already_recognised),
            "new_credits": format_decimal(self.new_credits),
            "what_if_credits": format_decimal(self.what_if_credits),
            "total_recognised": format_decimal(self.total_recognised),
            "credits_missing": format_decimal(self.credits_missing),
            "recognitions": [r.to_json() for r in self.recognitions],
            "unused": [u.to_json() for u in self.unused],
            "courses_missing": [
                {
                    "course_code": c.course_code,
                    "course_title": c.title,
                    "credits": format_decimal(c.credits),
                }
                for c in self.courses_missing
            ],
            "caps": [
                {"name": c.name, "limit": format_decimal(c.limit), "used": format_decimal(c.used)}
                for c in self.caps
            ],
            "caps_reached": list(self.caps_reached),
        }
