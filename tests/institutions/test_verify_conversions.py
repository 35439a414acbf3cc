"""Issue 12 item 2: every conversion.posted is re-checked from the log alone.

The tamper test appends, behind the bank's back (straight into the log, no admission, no read
models), a validly signed conversion that counts five certificates toward SOU-CNC, whose cap is
four. The conversion audit must name that entry's index.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from creditbank.accounts.conversion_audit import audit_conversions
from creditbank.accounts.readmodel_audit import audit_read_models
from creditbank.errors import RuleViolation, TamperError
from creditbank.ledger.sql import SqlLogStore
from tests.api.world import World, unique

#: (mapping, occupation code, the courses claimed): five trades, 34 credits (cap 45.6), SOU-CNC
FIVE = [
    ("CNC-ELEC-L4", "6-31-01-03", ["CNC205"]),
    ("CNC-LATHE-L4", "6-18-01-01", ["CNC213", "CNC204"]),
    ("CNC-MILL-L4", "6-18-01-02", ["CNC214"]),
    ("CNC-MPCNC-L4", "6-18-01-07", ["CNC209", "CNC208", "CNC215"]),
    ("CNC-WELD", "6-18-02-04", ["CNC212", "CNC203", "CNC206"]),
]


def _conversion(world: World, learner_id: str, certificates: dict[str, str]) -> dict[str, Any]:
    programme = world.catalog.programme("SOU-CNC")
    recognitions = []
    for mapping_id, code, courses in FIVE:
        for course in courses:
            found = programme.course(course)
            assert found is not None
            recognitions.append(
                {"course_code": course, "credits": str(found.credits), "mapping_id": mapping_id,
                 "sources": [certificates[code]]}
            )  # fmt: skip
    return {
        "conversion_id": unique("CVX"),
        "learner_id": learner_id,
        "programme_code": "SOU-CNC",
        "as_of": world.today.isoformat(),
        "recognitions": recognitions,
    }


def test_the_demo_ledger_conversions_all_hold(sqlite_world: World) -> None:
    world = sqlite_world
    world.new_conversion()
    store = SqlLogStore(world.bank.engine)
    report = audit_conversions(store)
    assert report.conversions >= 2 and report.entries == world.bank.log.size()
    combined = audit_read_models(world.bank.engine, store, audited=store.size(), conversions=UTC)
    assert combined.conversions == report.conversions


def test_a_cap_breaking_conversion_appended_behind_the_back_is_named(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    learner = world.new_learner()
    certificates: dict[str, str] = {}
    for _, code, _ in FIVE:
        certificate_id = unique("CERT")
        world.bank.submit(
            world.provider.sign(
                "certificate.issued",
                {"certificate_id": certificate_id, "learner_id": learner.learner_id,
                 "qualification_code": code, "level": 3,
                 "issued_on": (world.today - timedelta(days=60)).isoformat()},
            )
        )  # fmt: skip
        certificates[code] = certificate_id
    body = _conversion(world, learner.learner_id, certificates)
    signed = world.registrar.sign("conversion.posted", body)
    with pytest.raises(RuleViolation, match="at most 4 certificates"):  # the bank refuses it
        world.bank.submit(signed)
    clean = audit_conversions(SqlLogStore(world.bank.engine))
    index = world.bank.log.size()
    world.bank.log.append([signed], now=datetime.now(UTC))  # behind the code's back
    with pytest.raises(TamperError) as found:
        audit_conversions(SqlLogStore(world.bank.engine))
    assert found.value.index == index
    assert "cap-exceeded" in str(found.value) and f"entry {index}" in str(found.value)
    assert clean.entries == index
    # What `creditbank verify` runs: the re-check riding on the read-model audit's replay, with
    # the leaves trusted as an audit just checked them, still reaches the entry the read models
    # never applied.
    store = SqlLogStore(world.bank.engine)
    with pytest.raises(TamperError) as again:
        audit_read_models(world.bank.engine, store, audited=store.size(), conversions=UTC)
    assert again.value.index == index and "cap-exceeded" in str(again.value)
