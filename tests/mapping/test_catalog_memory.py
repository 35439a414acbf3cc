"""A catalogue built in memory runs the same checks as the CSV loader and stays immutable."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from mapping_factory import Factory

from creditbank.errors import CatalogError, NotFoundError
from creditbank.mapping import Catalog, Course, Mode, ProgrammeCaps


def test_with_and_without_mapping_return_new_catalogues(factory: Factory) -> None:
    programme = factory.programme()
    first = factory.mapping("M1", programme, ["C1", "C2"])
    catalog = Catalog(programmes=[programme], mappings=[first])
    second = factory.mapping("M2", programme, ["C3"], requires=[("6-31-01-03", 4)])
    bigger = catalog.with_mapping(second)
    assert [m.mapping_id for m in bigger.mappings] == ["M1", "M2"]
    assert [m.mapping_id for m in catalog.mappings] == ["M1"]
    assert bigger.without_mapping("M2") == catalog
    with pytest.raises(NotFoundError):
        catalog.without_mapping("M9")


def test_versions_answer_as_of_queries(factory: Factory) -> None:
    programme = factory.programme()
    v1 = factory.mapping("M", programme, ["C1"], effective_to=date(2022, 8, 31))
    v2 = factory.mapping("M", programme, ["C1", "C2"], version=2, effective_from=date(2022, 9, 1))
    catalog = Catalog([programme], [v2, v1])
    assert catalog.versions("M") == (v1, v2)
    assert catalog.mapping_in_force("M", date(2021, 1, 1)) == v1
    assert catalog.mapping_in_force("M", date(2024, 1, 1)) == v2
    assert catalog.mapping_in_force("M", date(2019, 1, 1)) is None
    assert catalog.mapping("M") == v2 and catalog.mapping("M", 1) == v1


def test_overlapping_versions_are_refused(factory: Factory) -> None:
    programme = factory.programme()
    v1 = factory.mapping("M", programme, ["C1"], effective_to=date(2022, 12, 31))
    v2 = factory.mapping("M", programme, ["C1"], version=2, effective_from=date(2022, 9, 1))
    with pytest.raises(CatalogError, match="versions must not overlap"):
        Catalog([programme], [v1, v2])
    changed = replace(v2, mode=Mode.THROUGH_TRAIN, effective_from=date(2023, 1, 1))
    with pytest.raises(CatalogError, match="needs a new mapping_id"):
        Catalog([programme], [v1, changed])


def test_targets_must_match_the_programme(factory: Factory) -> None:
    programme = factory.programme()
    good = factory.mapping("M", programme, ["C1"])
    wrong_credits = replace(good, targets=(replace(good.targets[0], credits=Decimal("9")),))
    with pytest.raises(CatalogError, match="credits 9 differ"):
        Catalog([programme], [wrong_credits])
    unknown = replace(good, targets=(Course("SOU", "Z9", "Nowhere", Decimal(1)),))
    with pytest.raises(CatalogError, match="not part of programme P"):
        Catalog([programme], [unknown])
    with pytest.raises(CatalogError, match="unknown programme"):
        Catalog([], [good])


def test_a_course_shared_by_programmes_has_one_credit_value(factory: Factory) -> None:
    first = factory.programme((3, 2), code="P")
    second = factory.programme((4, 2), code="Q")
    with pytest.raises(CatalogError, match="3 credits here but 4"):
        Catalog([second, first])


def test_programme_invariants(factory: Factory) -> None:
    with pytest.raises(CatalogError, match="more than the programme total"):
        factory.programme((40, 40), total=76)
    with pytest.raises(CatalogError, match="max_certificates"):
        factory.programme(caps=ProgrammeCaps(max_certificates=0))


def test_through_train_block_must_fit_the_share(factory: Factory) -> None:
    programme = factory.programme(
        (10, 10, 10, 10), caps=ProgrammeCaps(max_through_train_share=Decimal("0.5"))
    )
    block = factory.mapping("TT", programme, ["C1", "C2", "C3"], mode=Mode.THROUGH_TRAIN)
    with pytest.raises(CatalogError, match="block of 30 credits is more than the upper bound"):
        Catalog([programme], [block])
    Catalog([programme], [factory.mapping("TT", programme, ["C1", "C2"], mode=Mode.THROUGH_TRAIN)])


def test_through_train_block_must_reach_the_lower_share(factory: Factory) -> None:
    """Issue 12 item 4: a 4-credit block passed; a block carries 40-60% by default."""
    programme = factory.programme((4, 10, 10, 10, 10, 32))
    small = factory.mapping("TT", programme, ["C1"], mode=Mode.THROUGH_TRAIN)
    with pytest.raises(CatalogError, match="block of 4 credits is less than the lower bound"):
        Catalog([programme], [small])
    whole = factory.mapping("TT", programme, ["C1", "C2", "C3", "C4"], mode=Mode.THROUGH_TRAIN)
    Catalog([programme], [whole])  # 34 of 76: 44.7%
    strict = factory.programme(
        (4, 10, 10, 10, 10, 32),
        caps=ProgrammeCaps(min_through_train_share=Decimal("0.5")),
        code="Q",
    )
    with pytest.raises(CatalogError, match="less than the lower bound"):
        Catalog([strict], [factory.mapping("TT", strict, ["C1", "C2", "C3", "C4"],
                                           mode=Mode.THROUGH_TRAIN)])  # fmt: skip


def test_lower_through_train_share_above_upper_is_refused(factory: Factory) -> None:
    with pytest.raises(CatalogError, match="min_through_train_share 0.7 is more than"):
        factory.programme(caps=ProgrammeCaps(min_through_train_share=Decimal("0.7")))


def test_recognition_must_not_loop_within_an_institution(factory: Factory) -> None:
    programme = factory.programme()
    forward = factory.mapping("A", programme, ["C2"], source_course=("SOU", "C1"))
    back = factory.mapping("B", programme, ["C1"], source_course=("SOU", "C2"))
    with pytest.raises(CatalogError, match="loops back on itself"):
        Catalog([programme], [forward, back])
    # mutual recognition between two institutions is normal
    there = factory.mapping("C", programme, ["C1"], source_course=("EXT", "X1"))
    Catalog([programme], [forward, there])


def test_a_qualification_has_one_name(factory: Factory) -> None:
    programme = factory.programme()
    first = factory.mapping("A", programme, ["C1"])
    renamed = factory.mapping("B", programme, ["C2"])
    requirement = replace(renamed.qualification_requirements[0], name="Something else")
    with pytest.raises(CatalogError, match="named 'Something else' here"):
        Catalog([programme], [first, replace(renamed, sources=(requirement,))])


def test_unknown_programme_lookup(factory: Factory) -> None:
    with pytest.raises(NotFoundError):
        Catalog([factory.programme()]).programme("NOPE")
