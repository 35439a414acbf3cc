"""Issue 12 item 3: a provider's mapping is proposed until a registrar of the programme's
institution approves it; only approved versions count (plans, conversions, the re-check).

The attack of the issue's first paragraph: provider prov-05 maps invented trades (4-99-01-0x,
level 1) onto AUT208 and AUT216 of SOU-AUTO, issues its own certificates for them, and the
registrar's planner then proposed those 8 credits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from creditbank.accounts.conversion_audit import audit_conversions
from creditbank.errors import TamperError
from creditbank.ledger.sql import SqlLogStore
from tests.api.world import Actor, Learner, World, unique

INVENTED = ("4-99-01-01", "4-99-01-02")
COURSES = ("AUT208", "AUT216")


def _invented_mapping(world: World, provider: Actor) -> dict[str, Any]:
    programme = world.catalog.programme("SOU-AUTO")
    targets = []
    for code in COURSES:
        course = programme.course(code)
        assert course is not None
        targets.append(
            {"institution": "SOU", "course_code": code, "course_title": course.title,
             "credits": str(course.credits)}
        )  # fmt: skip
    return {
        "mapping_id": unique("PROV05-INVENTED"),
        "version": 1,
        "mode": "certificate_recognition",
        "provider": provider.actor_id,
        "programme_code": "SOU-AUTO",
        "effective_from": "2020-01-01",
        "effective_to": None,
        "valid_years": 5,
        "sources": [
            {
                "kind": "qualification",
                "qualification_code": code,
                "qualification_name": f"invented trade {code}",
                "min_level": 1,
            }
            for code in INVENTED
        ],  # fmt: skip
        "targets": targets,
    }


def _attack(world: World, http: TestClient) -> tuple[Actor, str, Learner]:
    """prov-05 registers the invented mapping and certifies a fresh learner in both trades."""
    provider = next(p for p in world.providers if p.actor_id == "prov-05")
    data = _invented_mapping(world, provider)
    answer = http.post(
        "/v1/mappings",
        json=provider.post_json("mapping.registered", {"mapping": data}),
        headers=world.bearer(provider.token),
    )
    assert answer.status_code == 201, answer.text
    learner = world.new_learner()
    for code in INVENTED:
        world.bank.submit(
            provider.sign(
                "certificate.issued",
                {"certificate_id": unique("CERT"), "learner_id": learner.learner_id,
                 "qualification_code": code, "level": 1,
                 "issued_on": (world.today - timedelta(days=10)).isoformat()},
            )
        )  # fmt: skip
    return provider, str(data["mapping_id"]), learner


def _planned(world: World, http: TestClient, learner: Learner) -> set[str]:
    answer = http.get(
        f"/v1/learners/{learner.learner_id}/plan?programme_code=SOU-AUTO",
        headers=world.bearer(world.registrar.token),
    )
    assert answer.status_code == 200, answer.text
    return {r["course_code"] for r in answer.json()["recognitions"]}


def test_prov05_invented_trades_count_for_nothing_until_sou_approves(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world, http = sqlite_world, sqlite_http
    _provider, mapping_id, learner = _attack(world, http)
    # proposed: listed apart, in no plan, in no conversion
    proposed = http.get("/v1/catalogue/proposed-mappings?programme_code=SOU-AUTO").json()
    assert mapping_id in {m["mapping_id"] for m in proposed["items"]}
    assert http.get(f"/v1/catalogue/mappings/{mapping_id}").status_code == 404
    assert not _planned(world, http, learner) & set(COURSES)
    claim = {
        "conversion_id": unique("CV"),
        "learner_id": learner.learner_id,
        "programme_code": "SOU-AUTO",
        "as_of": world.today.isoformat(),
        "recognitions": [
            {
                "course_code": code,
                "credits": "4",
                "mapping_id": mapping_id,
                "sources": [
                    c.certificate_id for c in world.bank.balance(learner.learner_id).certificates
                ],
            }
            for code in COURSES
        ],  # fmt: skip
    }
    size = world.bank.log.size()
    refused = http.post(
        "/v1/conversions",
        json=world.registrar.post_json("conversion.posted", claim),
        headers=world.bearer(world.registrar.token),
    )
    assert refused.status_code == 409, refused.text  # a proposal is no mapping the rules know
    assert refused.json()["code"] == "unknown-mapping"
    assert world.bank.log.size() == size
    # approved by SOU's registrar, the same mapping now counts (the test above can fail)
    approved = http.post(
        f"/v1/mappings/{mapping_id}/approve",
        json=world.registrar.post_json(
            "mapping.approved", {"mapping_id": mapping_id, "version": 1}
        ),
        headers=world.bearer(world.registrar.token),
    )
    assert approved.status_code == 201, approved.text
    assert set(COURSES) <= _planned(world, http, learner)
    again = http.post(
        f"/v1/mappings/{mapping_id}/approve",
        json=world.registrar.post_json(
            "mapping.approved", {"mapping_id": mapping_id, "version": 1}
        ),
        headers=world.bearer(world.registrar.token),
    )
    assert again.status_code == 409, again.text
    # SOU's registrar retires it again: it stops counting
    retired = http.post(
        f"/v1/mappings/{mapping_id}/retire",
        json=world.registrar.post_json(
            "mapping.retired", {"mapping_id": mapping_id, "reason": "fraud"}
        ),
        headers=world.bearer(world.registrar.token),
    )
    assert retired.status_code == 201, retired.text
    assert not _planned(world, http, learner) & set(COURSES)


def test_an_approval_by_a_provider_or_of_an_unknown_version_is_refused(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world, http = sqlite_world, sqlite_http
    provider, mapping_id, _learner = _attack(world, http)
    own = http.post(
        f"/v1/mappings/{mapping_id}/approve",
        json=provider.post_json("mapping.approved", {"mapping_id": mapping_id, "version": 1}),
        headers=world.bearer(provider.token),
    )
    assert own.status_code == 403, own.text  # a provider cannot approve its own proposal
    unknown = http.post(
        f"/v1/mappings/{mapping_id}/approve",
        json=world.registrar.post_json(
            "mapping.approved", {"mapping_id": mapping_id, "version": 2}
        ),
        headers=world.bearer(world.registrar.token),
    )
    assert unknown.status_code == 404, unknown.text


def test_a_conversion_on_an_unapproved_mapping_appended_behind_the_back_fails_verify(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    """Last in this module: the entry appended behind the back leaves the read models behind."""
    world, http = sqlite_world, sqlite_http
    _provider, mapping_id, learner = _attack(world, http)
    sources = [c.certificate_id for c in world.bank.balance(learner.learner_id).certificates]
    body = {
        "conversion_id": unique("CVX"),
        "learner_id": learner.learner_id,
        "programme_code": "SOU-AUTO",
        "as_of": world.today.isoformat(),
        "recognitions": [
            {"course_code": code, "credits": "4", "mapping_id": mapping_id, "sources": sources}
            for code in COURSES
        ],
    }
    index = world.bank.log.size()
    world.bank.log.append([world.registrar.sign("conversion.posted", body)], now=datetime.now(UTC))
    with pytest.raises(TamperError) as found:
        audit_conversions(SqlLogStore(world.bank.engine))
    assert found.value.index == index and f"entry {index}" in str(found.value)
