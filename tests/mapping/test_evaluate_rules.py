"""``evaluate``: a registrar's proposal is accepted, or refused with a specific code."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from mapping_factory import AS_OF, Factory

from creditbank.errors import NotFoundError, RuleViolation
from creditbank.mapping import (
    Catalog,
    Holdings,
    PostedRecognition,
    ProgrammeCaps,
    Proposal,
    evaluate,
)

WELD = "6-18-02-04"
ELEC = "6-31-01-03"


@pytest.fixture
def catalog(factory: Factory) -> Catalog:
    p = factory.programme(caps=ProgrammeCaps(max_recognised_credits=Decimal(8), max_certificates=2))
    return Catalog(
        [p],
        [
            factory.mapping("W", p, ["C1", "C2"], requires=[(WELD, 4)]),
            factory.mapping("E", p, ["C3"], requires=[(ELEC, 4)]),
            factory.mapping("AND", p, ["C4"], requires=[(WELD, 4), (ELEC, 4)]),
            factory.mapping("X", p, ["C4"], source_course=("EXT", "X1"), min_grade="70"),
            factory.mapping("OLD", p, ["C4"], effective_to=date(2022, 1, 1)),
        ],
    )


@pytest.fixture
def holdings(factory: Factory) -> Holdings:
    return Holdings(
        certificates=(
            factory.cert("w"),
            factory.cert("w2", level=3),
            factory.cert("low", level=5),
            factory.cert("old", issued_on=date(2019, 1, 1)),
            factory.cert("e", code=ELEC),
        ),
        credits=(factory.credit("k"), factory.credit("weak", grade="60")),
    )


def check(
    catalog: Catalog,
    holdings: Holdings,
    *proposals: tuple[str, str, tuple[str, ...]],
    posted: tuple[PostedRecognition, ...] = (),
) -> list[tuple[str, Decimal]]:
    recognised = evaluate(
        catalog,
        holdings,
        "P",
        AS_OF,
        [Proposal(course, mapping, sources) for course, mapping, sources in proposals],
        already_recognised=posted,
    )
    return [(r.course_code, r.credits) for r in recognised]


def test_a_valid_proposal_earns_the_course_credits(catalog: Catalog, holdings: Holdings) -> None:
    assert check(catalog, holdings, ("C1", "W", ("w",)), ("C4", "X", ("k",))) == [
        ("C1", Decimal(3)),
        ("C4", Decimal(2)),
    ]


@pytest.mark.parametrize(
    ("proposals", "code"),
    [
        ([("C9", "W", ("w",))], "not-in-programme"),
        ([("C3", "W", ("w",))], "not-in-programme"),
        ([("C1", "NOPE", ("w",))], "unknown-mapping"),
        ([("C4", "OLD", ("w",))], "mapping-not-in-force"),
        ([("C1", "W", ("ghost",))], "unknown-holding"),
        ([("C1", "W", ("e",))], "source-mismatch"),
        ([("C1", "W", ("k",))], "source-mismatch"),
        ([("C1", "W", ())], "source-mismatch"),
        ([("C1", "W", ("low",))], "below-min-level"),
        ([("C1", "W", ("old",))], "certificate-expired"),
        ([("C4", "X", ("weak",))], "grade-too-low"),
        ([("C4", "AND", ("w",))], "requirement-incomplete"),
        ([("C1", "W", ("w",)), ("C1", "W", ("w",))], "course-already-credited"),
        ([("C1", "W", ("w",)), ("C2", "W", ("w2",))], "superseded"),
        ([("C1", "W", ("w",)), ("C4", "AND", ("w", "e"))], "source-already-used"),
        ([("C1", "W", ("w",)), ("C2", "W", ("w",)), ("C3", "E", ("e",))], "cap-exceeded"),
    ],
)
def test_each_rule_refuses_with_its_code(
    catalog: Catalog,
    holdings: Holdings,
    proposals: list[tuple[str, str, tuple[str, ...]]],
    code: str,
) -> None:
    with pytest.raises(RuleViolation) as caught:
        check(catalog, holdings, *proposals)
    assert caught.value.code == code
    assert str(caught.value)


def test_posted_recognitions_count(catalog: Catalog, holdings: Holdings) -> None:
    posted = (PostedRecognition("C1", Decimal(3), ("w",), "W"),)
    with pytest.raises(RuleViolation) as caught:
        check(catalog, holdings, ("C1", "W", ("w",)), posted=posted)
    assert caught.value.code == "course-already-credited"
    with pytest.raises(RuleViolation) as caught:
        check(catalog, holdings, ("C3", "E", ("e",)), ("C4", "X", ("k",)), posted=posted)
    assert caught.value.code == "cap-exceeded"  # 3 posted + 4 + 2 = 9 > 8
    # the same holding may finish the mapping it was used with
    assert check(catalog, holdings, ("C2", "W", ("w",)), posted=posted) == [("C2", Decimal(3))]
    with pytest.raises(RuleViolation) as caught:
        check(catalog, holdings, ("C2", "W", ("low",)), posted=posted)
    assert caught.value.code == "below-min-level"


def test_a_lower_certificate_cannot_top_up(catalog: Catalog, holdings: Holdings) -> None:
    posted = (PostedRecognition("C1", Decimal(3), ("w2",), "W"),)
    with pytest.raises(RuleViolation) as caught:
        check(catalog, holdings, ("C2", "W", ("w",)), posted=posted)
    assert caught.value.code == "superseded"
    top_up = (PostedRecognition("C1", Decimal(3), ("w",), "W"),)
    assert check(catalog, holdings, ("C2", "W", ("w2",)), posted=top_up) == [("C2", Decimal(3))]


def test_unknown_programme(catalog: Catalog, holdings: Holdings) -> None:
    with pytest.raises(NotFoundError):
        evaluate(catalog, holdings, "Q", AS_OF, [])
