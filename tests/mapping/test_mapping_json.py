"""A Mapping survives the trip through plain JSON (a ledger entry body) and rejects bad data."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditbank.errors import CatalogError, MappingFormatError
from creditbank.mapping import (
    Catalog,
    Course,
    CourseRequirement,
    Mapping,
    Mode,
    QualificationRequirement,
)

codes = st.sampled_from(["6-18-02-04", "6-31-01-03", "4-10-01-05", "4-04-04-02"])
credits = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("10"), places=1).map(
    lambda d: d.normalize() if d == d.to_integral_value() else d
)


@st.composite
def mappings(draw: st.DrawFn) -> Mapping:
    mode = draw(st.sampled_from(list(Mode)))
    start = draw(st.dates(min_value=date(2010, 1, 1), max_value=date(2030, 1, 1)))
    end = draw(st.none() | st.integers(0, 3000).map(lambda n: start + timedelta(days=n)))
    targets = draw(st.lists(st.sampled_from(["C1", "C2", "C3", "C4"]), min_size=1, unique=True))
    sources: tuple[QualificationRequirement | CourseRequirement, ...]
    if mode is Mode.CREDIT_RECOGNITION:
        grade = draw(st.none() | st.integers(0, 100).map(Decimal))
        sources = (CourseRequirement("EXT", "X1", "外校课程", grade),)
    else:
        chosen = draw(st.lists(codes, min_size=1, max_size=3, unique=True))
        sources = tuple(
            QualificationRequirement(c, f"工种 {c}", draw(st.integers(1, 5))) for c in chosen
        )
    return Mapping(
        mapping_id=draw(st.from_regex(r"[A-Z][A-Z0-9-]{0,12}", fullmatch=True)),
        version=draw(st.integers(1, 9)),
        mode=mode,
        provider=draw(st.text(min_size=1, max_size=10)),
        programme_code="P",
        effective_from=start,
        effective_to=end,
        valid_years=draw(st.none() | st.integers(1, 10)),
        sources=sources,
        targets=tuple(Course("SOU", t, f"课程 {t}", draw(credits)) for t in targets),
    )


@settings(max_examples=150, deadline=None)
@given(mappings())
def test_round_trip_through_json_text(mapping: Mapping) -> None:
    data = mapping.to_json()
    text = json.dumps(data, ensure_ascii=False)
    assert Mapping.from_json(json.loads(text)) == mapping
    assert all(isinstance(t["credits"], str) for t in data["targets"])


def test_shipped_mappings_round_trip(shipped: Catalog) -> None:
    for mapping in shipped.mappings:
        assert Mapping.from_json(json.loads(json.dumps(mapping.to_json()))) == mapping


def _base(shipped: Catalog) -> dict[str, Any]:
    return shipped.mapping("INFOSEC-NETDEV").to_json()


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d.update(mode="apprenticeship"), "apprenticeship"),
        (lambda d: d.update(version=0), "version"),
        (lambda d: d.update(version="1"), "version must be an integer"),
        (lambda d: d.update(extra=1), "unknown keys"),
        (lambda d: d.pop("provider"), "missing keys"),
        (lambda d: d["targets"][0].update(credits=4.0), "credits must be a non-empty string"),
        (lambda d: d["targets"][0].update(credits="-1"), "non-negative"),
        (lambda d: d["sources"][0].update(min_level=6), "from 1"),
        (lambda d: d["sources"][0].update(qualification_code="61802"), "occupation code"),
        (lambda d: d.update(effective_to="2020-01-01"), "before effective_from"),
        (lambda d: d.update(targets=[]), "at least one target"),
        (lambda d: d["sources"].append(dict(d["sources"][0])), "required twice"),
        (lambda d: d["sources"][0].update(kind="diploma"), "kind"),
        (lambda d: d.update(mode="credit_recognition"), "exactly one source course"),
    ],
)
def test_bad_json_is_refused(shipped: Catalog, change: Any, fragment: str) -> None:
    data = _base(shipped)
    change(data)
    with pytest.raises(MappingFormatError, match=fragment):
        Mapping.from_json(data)


def test_an_invalid_mapping_cannot_be_constructed(shipped: Catalog) -> None:
    good = shipped.mapping("INFOSEC-NETDEV")
    with pytest.raises(CatalogError, match="before effective_from"):
        Mapping(
            mapping_id=good.mapping_id,
            version=good.version,
            mode=good.mode,
            provider=good.provider,
            programme_code=good.programme_code,
            effective_from=date(2024, 1, 1),
            effective_to=date(2023, 1, 1),
            valid_years=good.valid_years,
            sources=good.sources,
            targets=good.targets,
        )
