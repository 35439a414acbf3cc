"""Graph queries: what converts into what, transitively, and the path that explains it."""

from __future__ import annotations

from datetime import date

import pytest
from mapping_factory import Factory

from creditbank.errors import NotFoundError
from creditbank.mapping import Catalog, CourseRequirement, QualificationRequirement


@pytest.fixture
def chain_catalog(factory: Factory) -> Catalog:
    """EXT:X1 -> SOU:C1 -> SOU:C2 -> SOU:C3 -> SOU:C4 (a chain of four recognitions)."""
    programme = factory.programme()
    return Catalog(
        [programme],
        [
            factory.mapping("R1", programme, ["C1"], source_course=("EXT", "X1")),
            factory.mapping("R2", programme, ["C2"], source_course=("SOU", "C1")),
            factory.mapping("R3", programme, ["C3"], source_course=("SOU", "C2")),
            factory.mapping("R4", programme, ["C4"], source_course=("SOU", "C3")),
            # a second, unrelated source of C1
            factory.mapping("R5", programme, ["C1"], source_course=("EXT", "X2")),
        ],
    )


def test_qualification_converts_by_level_programme_and_date(shipped: Catalog) -> None:
    graph = shipped.graph
    at_l4 = graph.conversions_of_qualification("6-18-01-01", 4, programme_code="SOU-CNC")
    assert {(c.mapping.mapping_id, c.course.course_code) for c in at_l4} == {
        ("CNC-LATHE-L4", "CNC213"),
        ("CNC-LATHE-L4", "CNC204"),
        ("CNC-LATHE-L5", "CNC213"),
        ("CNC-TURNMILL", "CNC215"),
    }
    turn_mill = next(c for c in at_l4 if c.mapping.mapping_id == "CNC-TURNMILL")
    assert [r.code for r in turn_mill.also_requires] == ["6-18-01-02"]
    at_l3 = graph.conversions_of_qualification("6-18-01-01", 3)
    assert "CNC-LATHE-L3" in {c.mapping.mapping_id for c in at_l3}
    welding_2021 = graph.conversions_of_qualification(
        "6-18-02-04", 4, programme_code="SOU-CNC", as_of=date(2021, 1, 1)
    )
    assert {c.mapping.version for c in welding_2021} == {1}
    assert {c.course.course_code for c in welding_2021} == {"CNC212", "CNC203"}


def test_path_climbs_levels_then_maps_then_joins_the_programme(shipped: Catalog) -> None:
    path = shipped.graph.explain("6-18-01-01", "SOU", "CNC213", level=3)
    assert [str(step) for step in path] == [
        "6-18-01-01 level 3 --maps-to [CNC-LATHE-L3 v1]--> SOU:CNC213",
        "SOU:CNC213 --part-of--> programme SOU-CNC",
    ]
    path = shipped.graph.explain("6-18-01-01", "SOU", "CNC215", level=2)
    assert [s.relation for s in path] == ["satisfies", "satisfies", "maps-to", "part-of"]


def test_credit_follows_recognitions_to_a_depth_limit(chain_catalog: Catalog) -> None:
    graph = chain_catalog.graph
    reached = {c.course.course_code for c in graph.conversions_of_course("EXT", "X1")}
    assert reached == {"C1", "C2", "C3"}  # depth 3 stops before C4
    deeper = graph.conversions_of_course("EXT", "X1", max_depth=4)
    assert {c.course.course_code for c in deeper} == {"C1", "C2", "C3", "C4"}
    last = next(c for c in deeper if c.course.course_code == "C4")
    assert [m.mapping_id for m in last.chain] == ["R1", "R2", "R3", "R4"]


def test_traversal_never_loops(factory: Factory) -> None:
    ours = factory.programme()
    theirs = factory.programme(code="Q", prefix="D", institution="EXT")
    catalog = Catalog(
        [ours, theirs],
        [
            factory.mapping("A", ours, ["C1"], source_course=("EXT", "D1")),
            factory.mapping("B", theirs, ["D1"], source_course=("SOU", "C1")),
            factory.mapping("C", ours, ["C2"], source_course=("SOU", "C1")),
        ],
    )
    chains = catalog.graph.articulation_chains("EXT", "D1", max_depth=10)
    assert [[h.mapping.mapping_id for h in c] for c in chains] == [["A"], ["A", "C"]]
    back = catalog.graph.articulation_chains("SOU", "C1", max_depth=10)
    assert [[h.mapping.mapping_id for h in c] for c in back] == [["B"], ["C"]]


def test_sources_of_a_course(shipped: Catalog, chain_catalog: Catalog) -> None:
    sources = shipped.graph.sources_of_course("SOU", "CNC205")
    labels = {
        (s.source.code if isinstance(s.source, QualificationRequirement) else s.source.label)
        for s in sources
    }
    assert labels == {"6-31-01-03", "SOU:EA201", "STIEI:EE2101"}
    transitive = next(
        s
        for s in sources
        if isinstance(s.source, CourseRequirement) and s.source.institution == "STIEI"
    )
    assert [step.mapping_id for step in transitive.path] == [
        "EAUTO-XR-STIEI-EE2101",
        "CNC-XR-SOU-EA201",
    ]
    chained = chain_catalog.graph.sources_of_course("SOU", "C3", max_depth=2)
    assert {s.source.label for s in chained} == {"SOU:C2", "SOU:C1"}


def test_explain_raises_when_there_is_no_path(shipped: Catalog) -> None:
    with pytest.raises(NotFoundError):
        shipped.graph.explain("4-10-01-05", "SOU", "CNC213", level=1)


def test_graph_answers_are_our_own_dataclasses(shipped: Catalog) -> None:
    conversion = shipped.graph.conversions_of_qualification("4-10-01-05", 3)[0]
    assert type(conversion).__module__ == "creditbank.mapping.graph"
    assert all(type(step).__module__ == "creditbank.mapping.graph" for step in conversion.path)
