"""Each conversion rule as a pure function."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from mapping_factory import AS_OF, Factory

from creditbank.mapping import Mode, ProgrammeCaps
from creditbank.mapping.rules import (
    Reason,
    add_years,
    cap_usage,
    certificate_refusal,
    credit_cap,
    credit_refusal,
    grade_meets,
    level_satisfies,
    mapping_in_force,
    supersedes,
    through_train_cap,
    within_validity,
)


@pytest.mark.parametrize(
    ("level", "min_level", "ok"),
    [(1, 3, True), (3, 3, True), (4, 3, False), (5, 5, True), (5, 4, False)],
)
def test_level_threshold_accepts_the_level_or_higher(level: int, min_level: int, ok: bool) -> None:
    assert level_satisfies(level, min_level) is ok


def test_grade_threshold() -> None:
    assert grade_meets(Decimal("70"), Decimal("70"))
    assert not grade_meets(Decimal("69.5"), Decimal("70"))
    assert grade_meets(Decimal("0"), None)


def test_validity_ends_the_day_before_the_anniversary() -> None:
    issued = date(2021, 6, 30)
    assert within_validity(issued, 5, date(2026, 6, 29))
    assert not within_validity(issued, 5, date(2026, 6, 30))
    assert within_validity(issued, None, date(2099, 1, 1))
    assert add_years(date(2020, 2, 29), 1) == date(2021, 2, 28)


def test_mapping_in_force_between_its_effective_dates(factory: Factory) -> None:
    programme = factory.programme()
    mapping = factory.mapping(
        "M", programme, ["C1"], effective_from=date(2021, 9, 1), effective_to=date(2022, 8, 31)
    )
    assert not mapping_in_force(mapping, date(2021, 8, 31))
    assert mapping_in_force(mapping, date(2021, 9, 1))
    assert mapping_in_force(mapping, date(2022, 8, 31))
    assert not mapping_in_force(mapping, date(2022, 9, 1))


def test_supersedes_only_within_one_trade(factory: Factory) -> None:
    higher = factory.cert("a", level=3)
    lower = factory.cert("b", level=4)
    other_trade = factory.cert("c", code="6-31-01-03", level=5)
    assert supersedes(higher, lower)
    assert not supersedes(lower, higher)
    assert not supersedes(higher, other_trade)
    assert not supersedes(higher, factory.cert("d", level=3))


def test_certificate_refusals_in_order(factory: Factory) -> None:
    programme = factory.programme()
    mapping = factory.mapping("M", programme, ["C1"], requires=[("6-18-02-04", 4)], valid_years=5)
    requirement = mapping.qualification_requirements[0]

    def reason(holding_level: int, issued: date | None, *, what_if: bool = False) -> Reason | None:
        holding = factory.cert("h", level=holding_level, issued_on=issued, what_if=what_if)
        refusal = certificate_refusal(holding, requirement, mapping, AS_OF)
        return None if refusal is None else refusal.reason

    assert reason(4, date(2024, 1, 1)) is None
    assert reason(5, date(2024, 1, 1)) is Reason.BELOW_MIN_LEVEL
    assert reason(3, date(2020, 1, 1)) is Reason.CERTIFICATE_EXPIRED
    assert reason(3, date(2027, 1, 1)) is Reason.NOT_YET_ISSUED
    assert reason(3, date(2027, 1, 1), what_if=True) is None
    assert reason(3, None, what_if=True) is None
    late = certificate_refusal(factory.cert("h"), requirement, mapping, date(2019, 1, 1))
    assert late is not None and late.reason is Reason.MAPPING_NOT_IN_FORCE


def test_credit_refusal_takes_the_strictest_hop(factory: Factory) -> None:
    programme = factory.programme()
    first = factory.mapping("A", programme, ["C1"], source_course=("EXT", "X1"), min_grade="60")
    second = factory.mapping(
        "B", programme, ["C2"], source_course=("SOU", "C1"), min_grade="75", valid_years=2
    )
    good = factory.credit("k", grade="80", earned_on=date(2025, 1, 1))
    assert credit_refusal(good, (first,), AS_OF) is None
    assert credit_refusal(good, (first, second), AS_OF) is None
    low = factory.credit("k", grade="70", earned_on=date(2025, 1, 1))
    refusal = credit_refusal(low, (first, second), AS_OF)
    assert refusal is not None and refusal.reason is Reason.GRADE_TOO_LOW
    old = factory.credit("k", grade="90", earned_on=date(2023, 1, 1))
    refusal = credit_refusal(old, (first, second), AS_OF)
    assert refusal is not None and refusal.reason is Reason.CREDIT_EXPIRED


def test_caps_take_the_smaller_limit(factory: Factory) -> None:
    programme = factory.programme(
        (10, 10, 10, 10),
        caps=ProgrammeCaps(
            max_recognised_credits=Decimal("30"),
            max_recognised_share=Decimal("0.6"),
            max_certificates=2,
            max_through_train_share=Decimal("0.5"),
        ),
    )
    assert credit_cap(programme) == Decimal("24")
    assert through_train_cap(programme) == Decimal("20")
    uses = {
        u.name: u
        for u in cap_usage(
            programme, credits=Decimal(24), certificates=3, through_train_credits=Decimal(5)
        )
    }
    assert uses["recognised-credits"].reached and not uses["recognised-credits"].exceeded
    assert uses["certificates"].exceeded
    assert not uses["through-train-credits"].reached
    assert credit_cap(factory.programme()) is None


def test_modes_are_the_four_of_the_scheme() -> None:
    assert {m.value for m in Mode} == {
        "certificate_recognition",
        "through_train",
        "credit_recognition",
        "course_restructuring",
    }
