"""The holdings file format (docs/qualification-map.md) and its errors."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from creditbank.errors import HoldingsError
from creditbank.mapping import CertificateHolding, CreditHolding, parse_holdings


def document() -> dict[str, Any]:
    return {
        "learner": "demo",
        "certificates": [
            {
                "holding_id": "c1",
                "qualification_code": "6-18-02-04",
                "level": 4,
                "issued_on": "2023-06-30",
            },
            {"holding_id": "w1", "qualification_code": "6-18-02-04", "level": 3, "what_if": True},
        ],  # fmt: skip
        "credits": [
            {
                "holding_id": "k1",
                "institution": "SSPU",
                "course_code": "ME1021",
                "credits": "2.5",
                "grade": "82",
                "earned_on": "2022-01-15",
            },
        ],  # fmt: skip
    }


def test_a_document_parses_into_exact_values() -> None:
    holdings = parse_holdings(document())
    assert holdings.certificates == (
        CertificateHolding("c1", "6-18-02-04", 4, date(2023, 6, 30)),
        CertificateHolding("w1", "6-18-02-04", 3, None, what_if=True),
    )
    assert holdings.credits == (
        CreditHolding("k1", "SSPU", "ME1021", Decimal("2.5"), Decimal("82"), date(2022, 1, 15)),
    )
    assert holdings.certificates[1].issued_for(date(2026, 1, 1)) == date(2026, 1, 1)


def test_json_numbers_parsed_as_decimal_are_exact() -> None:
    text = json.dumps(document()).replace('"2.5"', "2.5")
    holdings = parse_holdings(json.loads(text, parse_float=Decimal))
    assert holdings.credits[0].credits == Decimal("2.5")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda d: d["certificates"][0].update(level=6), "certificates\\[0\\]: level"),
        (lambda d: d["certificates"][0].update(qualification_code="x"), "occupation code"),
        (lambda d: d["certificates"][0].pop("issued_on"), "issued_on is required"),
        (lambda d: d["certificates"][0].update(issued_on="30/06/2023"), "ISO date"),
        (lambda d: d["certificates"][0].update(colour="red"), "unknown key"),
        (lambda d: d["certificates"][1].update(what_if="yes"), "true or false"),
        (lambda d: d["credits"][0].update(credits=2.5), "never a float"),
        (lambda d: d["credits"][0].update(grade="101"), "between 0 and 100"),
        (lambda d: d["credits"][0].pop("grade"), "missing key"),
        (lambda d: d["credits"][0].update(holding_id="c1"), "used twice"),
        (lambda d: d.update(certificates={}), "must be a JSON array"),
        (lambda d: d.update(extra=[]), "unknown key"),
    ],
)
def test_bad_documents_are_refused(change: Any, fragment: str) -> None:
    data = document()
    change(data)
    with pytest.raises(HoldingsError, match=fragment):
        parse_holdings(data)


def test_not_an_object() -> None:
    with pytest.raises(HoldingsError, match="must be a JSON object"):
        parse_holdings([])
