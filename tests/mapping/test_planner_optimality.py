"""The planner is optimal: on small random instances it matches an exhaustive search.

The brute force enumerates, for every course of the programme, "not credited" or every
(mapping, holdings) that could name it, and keeps the best combination that ``evaluate`` accepts.
It shares nothing with the planner's option search or its solver, only the rules' referee.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mapping_factory import AS_OF, Factory

from creditbank.errors import CatalogError, RuleViolation
from creditbank.mapping import (
    Catalog,
    Holdings,
    Mapping,
    Mode,
    PostedRecognition,
    ProgrammeCaps,
    Proposal,
    evaluate,
    plan,
)

CODES = ("6-18-02-04", "6-31-01-03", "6-18-01-01")
SOURCE_COURSES = (("EXT", "X1"), ("EXT", "X2"), ("SOU", "D1"))
Instance = tuple[Catalog, Holdings, tuple[PostedRecognition, ...]]
factory = Factory()


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    credits = draw(st.lists(st.sampled_from(["1", "1.5", "2", "3"]), min_size=2, max_size=4))
    total = sum(Decimal(c) for c in credits)
    caps = ProgrammeCaps(
        max_recognised_credits=draw(
            st.none()
            | st.sampled_from([Decimal(x) for x in ("2", "3.5", "5") if Decimal(x) <= total])
        ),
        max_recognised_share=draw(st.none() | st.sampled_from([Decimal("0.5"), Decimal("0.75")])),
        max_certificates=draw(st.none() | st.integers(1, 2)),
        max_through_train_share=draw(st.none() | st.sampled_from([Decimal("0.5"), Decimal(1)])),
    )
    p = factory.programme(credits, caps=caps)
    q = factory.programme((2,), code="Q", prefix="D")
    codes = [c.course_code for c in p.courses]
    mappings: list[Mapping] = [
        factory.mapping("CHAIN", q, ["D1"], source_course=("EXT", "X1"), min_grade="60")
    ]
    for i in range(draw(st.integers(1, 4))):
        mode = draw(st.sampled_from(list(Mode)))
        targets = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=3, unique=True))
        in_force = draw(st.integers(0, 5)) > 0
        dates = {
            "effective_from": date(2020, 1, 1) if in_force else date(2015, 1, 1),
            "effective_to": None if in_force else date(2019, 12, 31),
            "valid_years": draw(st.none() | st.integers(2, 6)),
        }
        if mode is Mode.CREDIT_RECOGNITION:
            source = draw(st.sampled_from(SOURCE_COURSES))
            grade = draw(st.none() | st.sampled_from(["60", "75"]))
            mapping = factory.mapping(
                f"M{i}", p, targets, source_course=source, min_grade=grade, **dates
            )
        else:
            required = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))
            levels = [draw(st.integers(3, 5)) for _ in required]
            mapping = factory.mapping(
                f"M{i}", p, targets, requires=list(zip(required, levels, strict=True)), mode=mode,
                **dates,
            )  # fmt: skip
        mappings.append(mapping)
    try:
        catalog = Catalog([p, q], mappings)
    except CatalogError:
        assume(False)  # e.g. a through-train block larger than the programme's share
        raise
    # holdings mostly of the trades and courses the mappings ask for, so that they compete
    wanted = sorted({r.code for m in mappings for r in m.qualification_requirements} or set(CODES))
    certificates = tuple(
        factory.cert(
            f"c{i}",
            draw(st.sampled_from(wanted) | st.sampled_from(CODES)),
            draw(st.integers(2, 5)),
            None if what_if else AS_OF - timedelta(days=draw(st.integers(0, 5 * 365))),
            what_if=what_if,
        )
        for i, what_if in enumerate(
            draw(st.lists(st.integers(0, 4).map(lambda n: n == 0), min_size=1, max_size=4))
        )
    )
    credits_held = tuple(
        factory.credit(
            f"k{i}",
            *draw(st.sampled_from(SOURCE_COURSES[:2])),
            grade=draw(st.sampled_from(["55", "65", "80"])),
            earned_on=AS_OF - timedelta(days=draw(st.integers(0, 5 * 365))),
        )
        for i in range(draw(st.integers(0, 2)))
    )
    holdings = Holdings(certificates, credits_held)
    posted: tuple[PostedRecognition, ...] = ()
    if draw(st.booleans()) and any(holdings) and len(mappings) > 1:
        mapping = draw(st.sampled_from(mappings[1:]))
        holding = draw(st.sampled_from(list(holdings)))
        course = mapping.targets[0]
        posted = (
            PostedRecognition(course.course_code, course.credits, (holding.holding_id,),
                              mapping.mapping_id),
        )  # fmt: skip
    return catalog, holdings, posted


def brute_force(
    catalog: Catalog, holdings: Holdings, posted: tuple[PostedRecognition, ...]
) -> Decimal:
    programme = catalog.programme("P")
    credited = {x.course_code for x in posted}
    per_course: list[list[Proposal | None]] = []
    for course in programme.courses:
        if course.course_code in credited:
            continue
        choices: list[Proposal | None] = [None]
        for mapping in catalog.mappings:
            if mapping.programme_code != "P" or mapping.target(course.course_code) is None:
                continue
            if mapping.mode is Mode.CREDIT_RECOGNITION:
                combos: list[tuple[str, ...]] = [(k.holding_id,) for k in holdings.credits]
            else:
                pools = [
                    [c.holding_id for c in holdings.certificates if c.qualification_code == r.code]
                    for r in mapping.qualification_requirements
                ]
                combos = [tuple(ids) for ids in itertools.product(*pools)]
            choices += [Proposal(course.course_code, mapping.mapping_id, ids) for ids in combos]
        per_course.append(choices)
    size = 1
    for choices in per_course:
        size *= len(choices)
    assume(size <= 3000)
    best = Decimal(0)
    for combination in itertools.product(*per_course):
        proposals = [p for p in combination if p is not None]
        try:
            granted = evaluate(catalog, holdings, "P", AS_OF, proposals, already_recognised=posted)
        except RuleViolation:
            continue
        best = max(best, sum((r.credits for r in granted), Decimal(0)))
    return best


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(instances())
def test_planner_matches_exhaustive_search(instance: Instance) -> None:
    catalog, holdings, posted = instance
    best = brute_force(catalog, holdings, posted)
    result = plan(catalog, holdings, "P", AS_OF, already_recognised=posted)
    assert result.new_credits == best
    used = {h for r in result.recognitions for h in r.source_holding_ids}
    assert {u.holding_id for u in result.unused} == {h.holding_id for h in holdings} - used
    reversed_holdings = Holdings(holdings.certificates[::-1], holdings.credits[::-1])
    assert plan(catalog, reversed_holdings, "P", AS_OF, already_recognised=posted) == result
