"""The planner on small, hand-checked cases: one test per rule, reason and cap."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from mapping_factory import AS_OF, Factory

from creditbank.errors import RuleViolation
from creditbank.mapping import (
    Catalog,
    Holdings,
    Mode,
    Plan,
    PostedRecognition,
    ProgrammeCaps,
    Proposal,
    Reason,
    evaluate,
    plan,
)

WELD = "6-18-02-04"
ELEC = "6-31-01-03"


def courses(result: Plan) -> dict[str, tuple[str, ...]]:
    return {r.course.course_code: r.source_holding_ids for r in result.recognitions}


def reasons(result: Plan) -> dict[str, Reason]:
    return {u.holding_id: u.reason for u in result.unused}


def test_a_certificate_exempts_several_courses(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog([p], [factory.mapping("M", p, ["C1", "C2", "C3"])])
    result = plan(catalog, Holdings(certificates=(factory.cert("h"),)), "P", AS_OF)
    assert courses(result) == {"C1": ("h",), "C2": ("h",), "C3": ("h",)}
    assert result.new_credits == Decimal(10)
    assert result.credits_missing == Decimal(2)
    assert [c.course_code for c in result.courses_missing] == ["C4"]
    assert {r.rule for r in result.recognitions} == {"level-threshold"}


def test_higher_level_supersedes_lower_and_levels_do_not_stack(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("L4", p, ["C1"], requires=[(WELD, 4)]),
            factory.mapping("L3", p, ["C2", "C3"], requires=[(WELD, 3)]),
        ],
    )
    held = Holdings(certificates=(factory.cert("low", level=4), factory.cert("high", level=3)))
    result = plan(catalog, held, "P", AS_OF)
    # the level-3 certificate could take either mapping, but one certificate per trade counts
    assert courses(result) == {"C2": ("high",), "C3": ("high",)}
    assert reasons(result) == {"low": Reason.SUPERSEDED}


def test_a_higher_certificate_tops_up_what_a_lower_one_earned(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("L4", p, ["C1"], requires=[(WELD, 4)]),
            factory.mapping("L3", p, ["C1", "C2"], requires=[(WELD, 3)]),
        ],
    )
    low, high = factory.cert("low", level=4), factory.cert("high", level=3)
    posted = [PostedRecognition("C1", Decimal(3), ("low",), "L4")]
    result = plan(
        catalog, Holdings(certificates=(low, high)), "P", AS_OF, already_recognised=posted
    )
    assert courses(result) == {"C2": ("high",)}
    assert result.recognitions[0].rule == "top-up"
    assert result.total_recognised == Decimal(6)
    # the other way round, a lower certificate cannot top up a higher one
    posted = [PostedRecognition("C1", Decimal(3), ("high",), "L3")]
    again = plan(catalog, Holdings(certificates=(low, high)), "P", AS_OF, already_recognised=posted)
    assert courses(again) == {"C2": ("high",)}
    assert reasons(again) == {"low": Reason.SUPERSEDED}


def test_reasons_for_ineligible_holdings(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("W", p, ["C1"], requires=[(WELD, 3)], valid_years=3),
            factory.mapping("E", p, ["C2"], requires=[(ELEC, 4)], effective_to=date(2024, 8, 31)),
            factory.mapping("X", p, ["C3"], source_course=("EXT", "X1"), min_grade="70"),
        ],
    )
    held = Holdings(
        certificates=(
            factory.cert("below", level=4),
            factory.cert("old", level=2, issued_on=date(2022, 1, 1)),
            factory.cert("future", level=3, issued_on=date(2027, 1, 1)),
            factory.cert("retired", code=ELEC),
            factory.cert("nothing", code="4-10-01-05"),
        ),
        credits=(factory.credit("weak", grade="65"),),
    )
    assert reasons(plan(catalog, held, "P", AS_OF)) == {
        "below": Reason.BELOW_MIN_LEVEL,
        "old": Reason.CERTIFICATE_EXPIRED,
        "future": Reason.NOT_YET_ISSUED,
        "retired": Reason.MAPPING_NOT_IN_FORCE,
        "nothing": Reason.NO_MAPPING,
        "weak": Reason.GRADE_TOO_LOW,
    }


def test_as_of_date_selects_the_mapping_version(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("M", p, ["C1"], effective_to=date(2022, 8, 31), valid_years=None),
            factory.mapping("M", p, ["C1", "C2"], version=2, effective_from=date(2022, 9, 1)),
        ],
    )
    held = Holdings(certificates=(factory.cert("h", issued_on=date(2021, 1, 1)),))
    early = plan(catalog, held, "P", date(2022, 1, 1))
    assert courses(early) == {"C1": ("h",)} and early.recognitions[0].version == 1
    late = plan(catalog, held, "P", date(2025, 1, 1))
    assert set(courses(late)) == {"C1", "C2"} and late.recognitions[0].version == 2


def test_credit_cap_is_a_knapsack_not_a_greedy_cut(factory: Factory) -> None:
    p = factory.programme((3, 3, 4, 10), caps=ProgrammeCaps(max_recognised_credits=Decimal(7)))
    catalog = Catalog(
        [p],
        [
            factory.mapping("A", p, ["C1", "C2"], requires=[(WELD, 4)]),
            factory.mapping("B", p, ["C3"], requires=[(ELEC, 4)]),
        ],
    )
    held = Holdings(certificates=(factory.cert("w"), factory.cert("e", code=ELEC)))
    result = plan(catalog, held, "P", AS_OF)
    assert result.new_credits == Decimal(7)
    assert "C3" in courses(result)
    assert "recognised-credits" in result.caps_reached


def test_certificate_count_cap(factory: Factory) -> None:
    p = factory.programme(caps=ProgrammeCaps(max_certificates=1))
    catalog = Catalog(
        [p],
        [
            factory.mapping("A", p, ["C1"], requires=[(WELD, 4)]),
            factory.mapping("B", p, ["C2", "C3"], requires=[(ELEC, 4)]),
        ],
    )
    held = Holdings(certificates=(factory.cert("w"), factory.cert("e", code=ELEC)))
    result = plan(catalog, held, "P", AS_OF)
    assert courses(result) == {"C2": ("e",), "C3": ("e",)}
    assert reasons(result) == {"w": Reason.CAP_EXCEEDED}
    assert "certificates" in result.caps_reached


def test_one_through_train_block_per_learner(factory: Factory) -> None:
    """Issue 12 item 4: a block is credited whole and once; a posted block leaves no room."""
    p = factory.programme(
        (10, 10, 10, 10), caps=ProgrammeCaps(max_through_train_share=Decimal("0.5"))
    )
    block = factory.mapping("TT", p, ["C1", "C2"], mode=Mode.THROUGH_TRAIN)
    catalog = Catalog([p], [block])
    posted = [PostedRecognition("C3", Decimal(10), ("earlier",), "OLD-TT", Mode.THROUGH_TRAIN)]
    held = Holdings(certificates=(factory.cert("h"),))
    result = plan(catalog, held, "P", AS_OF, already_recognised=posted)
    assert result.new_credits == 0
    assert "through-train-credits" in result.caps_reached
    assert [u.reason.value for u in result.unused] == ["cap-exceeded"]
    fresh = plan(catalog, held, "P", AS_OF)
    assert [r.course.course_code for r in fresh.recognitions] == ["C1", "C2"]


def test_issue12_item4_a_block_is_never_credited_in_pieces(factory: Factory) -> None:
    """The planner credited 32-34% pieces of a block; now the block is whole or not at all."""
    p = factory.programme((10, 10, 10, 10, 10))
    block = factory.mapping("TT", p, ["C1", "C2"], mode=Mode.THROUGH_TRAIN)  # 20 of 50: 40%
    other = factory.mapping("X", p, ["C2"], requires=[(ELEC, 4)])
    catalog = Catalog([p], [block, other])
    held = Holdings(certificates=(factory.cert("h"), factory.cert("e", code=ELEC)))
    posted = [PostedRecognition("C2", Decimal(10), ("e",), "X")]
    result = plan(catalog, held, "P", AS_OF, already_recognised=posted)
    assert result.recognitions == ()
    assert {u.holding_id: u.reason.value for u in result.unused}["h"] == "block-incomplete"
    with pytest.raises(RuleViolation) as refused:
        evaluate(catalog, held, "P", AS_OF, [Proposal("C1", "TT", ("h",))])
    assert refused.value.code == "block-incomplete"


def test_a_course_is_credited_once(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("A", p, ["C1"], requires=[(WELD, 4)]),
            factory.mapping("B", p, ["C1"], requires=[(ELEC, 4)]),
        ],
    )
    held = Holdings(certificates=(factory.cert("w"), factory.cert("e", code=ELEC)))
    result = plan(catalog, held, "P", AS_OF)
    assert len(result.recognitions) == 1
    assert set(reasons(result).values()) == {Reason.COURSE_ALREADY_CREDITED}


def test_many_to_one_needs_every_certificate(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog([p], [factory.mapping("AND", p, ["C3"], requires=[(WELD, 4), (ELEC, 4)])])
    alone = plan(catalog, Holdings(certificates=(factory.cert("w"),)), "P", AS_OF)
    assert reasons(alone) == {"w": Reason.REQUIREMENT_INCOMPLETE}
    both = Holdings(certificates=(factory.cert("w"), factory.cert("e", code=ELEC)))
    result = plan(catalog, both, "P", AS_OF)
    assert courses(result) == {"C3": ("e", "w")}
    assert result.recognitions[0].rule == "many-to-one"


def test_a_credit_is_carried_through_a_chain(factory: Factory) -> None:
    p = factory.programme()
    q = factory.programme((4,), code="Q", prefix="D")
    catalog = Catalog(
        [p, q],
        [
            factory.mapping("TO-Q", q, ["D1"], source_course=("EXT", "X1"), min_grade="60"),
            factory.mapping("TO-P", p, ["C3"], source_course=("SOU", "D1"), min_grade="75"),
        ],
    )
    good = plan(catalog, Holdings(credits=(factory.credit("k", grade="80"),)), "P", AS_OF)
    assert courses(good) == {"C3": ("k",)}
    assert good.recognitions[0].rule == "articulation"
    assert [s.mapping_id for s in good.recognitions[0].path[:-1]] == ["TO-Q", "TO-P"]
    weak = plan(catalog, Holdings(credits=(factory.credit("k", grade="70"),)), "P", AS_OF)
    assert reasons(weak) == {"k": Reason.GRADE_TOO_LOW}


def test_what_if_holdings_show_what_a_new_certificate_adds(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("L4", p, ["C1"], requires=[(WELD, 4)]),
            factory.mapping("L3", p, ["C1", "C2", "C3"], requires=[(WELD, 3)]),
        ],
    )
    real = factory.cert("real", level=4)
    dream = factory.cert("dream", level=3, issued_on=None, what_if=True)
    result = plan(catalog, Holdings(certificates=(real, dream)), "P", AS_OF)
    assert result.what_if_credits == Decimal(10) and result.credits_missing == Decimal(2)
    assert all(r.what_if for r in result.recognitions)
    # with equal credit, a real holding is preferred to a what-if one
    twin = factory.cert("twin", level=4, issued_on=None, what_if=True)
    tie = plan(catalog, Holdings(certificates=(twin, real)), "P", AS_OF)
    assert courses(tie) == {"C1": ("real",)} and tie.what_if_credits == 0


def test_ties_prefer_fewer_holdings(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("A-BOTH", p, ["C1", "C2"], requires=[(WELD, 4)]),
            factory.mapping("B-ONE", p, ["C1"], requires=[(ELEC, 4)]),
            factory.mapping("C-TWO", p, ["C2"], requires=[("6-18-01-01", 4)]),
        ],
    )
    held = Holdings(
        certificates=(
            factory.cert("b", code=ELEC),
            factory.cert("c", code="6-18-01-01"),
            factory.cert("a"),
        )
    )
    result = plan(catalog, held, "P", AS_OF)
    assert courses(result) == {"C1": ("a",), "C2": ("a",)}
    assert set(reasons(result).values()) == {Reason.COURSE_ALREADY_CREDITED}


def test_a_source_serves_only_the_mapping_it_was_used_with(factory: Factory) -> None:
    p = factory.programme()
    catalog = Catalog(
        [p],
        [
            factory.mapping("A", p, ["C1", "C4"], requires=[(WELD, 4)]),
            factory.mapping("B", p, ["C2", "C3"], requires=[(WELD, 4)]),
        ],
    )
    posted = [PostedRecognition("C1", Decimal(3), ("w",), "A")]
    result = plan(
        catalog, Holdings(certificates=(factory.cert("w"),)), "P", AS_OF, already_recognised=posted
    )
    # B would give more (7 credits), but w is bound to A: it may only finish A's courses
    assert courses(result) == {"C4": ("w",)}
    assert result.total_recognised == Decimal(5)


def test_the_plan_does_not_depend_on_the_order_of_holdings(shipped: Catalog) -> None:
    certificates = (
        Factory.cert("c0", "6-18-01-01", 4, date(2023, 6, 30)),
        Factory.cert("c1", "6-18-01-01", 4, date(2024, 6, 30)),
        Factory.cert("c2", "6-18-01-02", 4, date(2024, 1, 10)),
        Factory.cert("c3", "6-31-01-03", 4, date(2025, 3, 1)),
        Factory.cert("c4", "6-18-01-07", 4, date(2025, 3, 1)),
    )
    credits = (Factory.credit("k1", "STIEI", "EE2101", "75"),)
    expected = plan(shipped, Holdings(certificates, credits), "SOU-CNC", AS_OF)
    shuffler = random.Random(7)
    for _ in range(5):
        shuffled = list(certificates)
        shuffler.shuffle(shuffled)
        again = plan(shipped, Holdings(tuple(shuffled), credits), "SOU-CNC", AS_OF)
        assert again == expected


def test_plan_json_uses_strings_for_credits(shipped: Catalog) -> None:
    held = Holdings(certificates=(Factory.cert("c", "4-12-01-01", 3, date(2024, 1, 1)),))
    data = plan(shipped, held, "SOU-AUTO", AS_OF).to_json()
    assert data["total_recognised"] == "31" and data["as_of"] == "2026-11-24"
    assert all(isinstance(r["credits"], str) for r in data["recognitions"])
    assert {r["mapping_id"] for r in data["recognitions"]} == {"AUTO-REPAIR-TT"}
