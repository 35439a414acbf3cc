"""The write paths, end to end over HTTP, on SQLite and PostgreSQL: a worker's story from
registration to a conversion and its reversal by a revoked certificate, key rotation, mappings.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.ledger.checkpoint import Checkpoint
from creditbank.ledger.entry import key_id_of, public_key_to_b64
from creditbank.ledger.keys import generate_key
from creditbank.ledger.merkle_verify import verify_inclusion
from tests.api.world import Actor, World, unique


def _post(http: TestClient, actor: Actor, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    answer = http.post(path, json=payload, headers={"Authorization": f"Bearer {actor.token}"})
    assert answer.status_code == 201, answer.text
    assert answer.headers["location"] == f"/v1/log/entries/{answer.json()['index']}"
    body: dict[str, Any] = answer.json()
    return body


def test_a_workers_story_from_registration_to_a_reversed_conversion(
    world: World, http: TestClient
) -> None:
    registrar, provider = world.registrar, world.provider
    identity = Identity(name="陈师傅", id_number=unique("ID"), salt=new_salt())
    learner_id = new_learner_id()
    payload = registrar.post_json(
        "learner.registered", {"learner_id": learner_id, "commitment": commitment_of(identity)}
    )
    payload["identity"] = {
        "name": identity.name,
        "id_number": identity.id_number,
        "salt": identity.salt,
    }
    registered = _post(http, registrar, "/v1/learners", payload)

    # the receipt is proven: its leaf is in the tree its checkpoint signs
    checkpoint = Checkpoint.open(registered["checkpoint"], [world.bank.log.verifier])
    entry = http.get(f"/v1/log/entries/{registered['index']}").json()
    assert entry["leaf_hash"] == registered["leaf_hash"]
    proof = http.get(
        "/v1/log/proof/inclusion",
        params={"index": registered["index"], "tree_size": checkpoint.size},
    ).json()
    verify_inclusion(
        base64.b64decode(registered["leaf_hash"]),
        registered["index"],
        checkpoint.size,
        [base64.b64decode(h) for h in proof["hashes"]],
        checkpoint.root_hash,
    )
    # personal data stayed off the log
    assert identity.name not in str(entry) and identity.id_number not in str(entry)

    certificate = world.certificate_body(learner_id)
    _post(http, provider, "/v1/certificates", provider.post_json("certificate.issued", certificate))
    token = http.post(
        "/v1/tokens", json={"learner_id": learner_id}, headers=world.bearer(registrar.token)
    ).json()["token"]
    programme = world.recognition.programme_code
    plan = http.get(
        f"/v1/learners/{learner_id}/plan",
        params={"programme_code": programme},
        headers=world.bearer(token),
    ).json()
    assert plan["recognitions"], plan
    conversion = {
        "conversion_id": unique("CV"),
        "learner_id": learner_id,
        "programme_code": programme,
        "as_of": plan["as_of"],
        "recognitions": [
            {
                "course_code": r["course_code"],
                "credits": r["credits"],
                "mapping_id": r["mapping_id"],
                "sources": r["source_holding_ids"],
            }
            for r in plan["recognitions"]
        ],
    }
    posted = _post(
        http, registrar, "/v1/conversions", registrar.post_json("conversion.posted", conversion)
    )
    balance = http.get(f"/v1/learners/{learner_id}/balance", headers=world.bearer(token)).json()
    assert Decimal(balance["total_recognised"]) == Decimal(plan["new_credits"]) > 0
    assert {i["index"] for p in balance["programmes"] for i in p["items"]} == {posted["index"]}
    progress = http.get(
        f"/v1/learners/{learner_id}/progress",
        params={"programme_code": programme},
        headers=world.bearer(token),
    ).json()
    assert Decimal(progress["recognised"]) == Decimal(plan["new_credits"])

    # before the conversion, as of a date in the past, nothing was recognised
    past = http.get(
        f"/v1/learners/{learner_id}/balance",
        params={"as_of": "2020-01-01"},
        headers=world.bearer(token),
    ).json()
    assert past["total_recognised"] == "0" and past["certificates"] == []

    # revoking the certificate reverses the conversion in the same append
    revoked = _post(
        http,
        provider,
        f"/v1/certificates/{certificate['certificate_id']}/revoke",
        provider.post_json(
            "certificate.revoked",
            {"certificate_id": certificate["certificate_id"], "reason": "entered-in-error"},
        ),
    )
    assert len(revoked["consequences"]) == 1
    reversal = http.get(f"/v1/log/entries/{revoked['consequences'][0]}").json()
    assert reversal["leaf"]["entry"]["type"] == "conversion.reversed"
    assert reversal["leaf"]["entry"]["body"]["conversion_id"] == conversion["conversion_id"]
    after = http.get(f"/v1/learners/{learner_id}/balance", headers=world.bearer(token)).json()
    assert after["total_recognised"] == "0"
    assert after["certificates"][0]["revoked"] is True


def test_a_registrar_reverses_a_conversion(world: World, http: TestClient) -> None:
    conversion_id, learner_id = world.new_conversion()
    before = world.bank.balance(learner_id).total_recognised
    assert before > 0
    receipt = _post(
        http,
        world.registrar,
        f"/v1/conversions/{conversion_id}/reverse",
        world.registrar.post_json(
            "conversion.reversed", {"conversion_id": conversion_id, "reason": "entered-in-error"}
        ),
    )
    assert receipt["entry_type"] == "conversion.reversed"
    assert world.bank.balance(learner_id).total_recognised == 0
    again = world.registrar.post_json(
        "conversion.reversed", {"conversion_id": conversion_id, "reason": "entered-in-error"}
    )
    answer = http.post(
        f"/v1/conversions/{conversion_id}/reverse",
        json=again,
        headers=world.bearer(world.registrar.token),
    )
    assert answer.status_code == 409


def test_a_conversion_claiming_more_than_the_rules_give_is_refused(
    world: World, http: TestClient
) -> None:
    learner = world.convertible_learner()
    body = world.conversion_body(learner.learner_id)
    body["recognitions"][0]["credits"] = str(Decimal(body["recognitions"][0]["credits"]) + 1)
    answer = http.post(
        "/v1/conversions",
        json=world.registrar.post_json("conversion.posted", body),
        headers=world.bearer(world.registrar.token),
    )
    assert answer.status_code == 409, answer.text
    assert answer.json()["type"].startswith("https://creditbank.example/problems/rule/")


def test_rotating_a_providers_key(world: World, http: TestClient) -> None:
    admin = world.admin
    old_key = generate_key()
    actor_id = unique("prov")
    _post(
        http,
        admin,
        "/v1/actors",
        admin.post_json(
            "actor.registered",
            {
                "actor_id": actor_id,
                "role": "provider",
                "name": f"provider {actor_id}",
                "public_key": public_key_to_b64(old_key.public_key()),
            },
        ),
    )
    token = http.post(
        "/v1/tokens", json={"actor_id": actor_id}, headers=world.bearer(admin.token)
    ).json()["token"]
    old = Actor(actor_id, "provider", actor_id, token, old_key)
    _post(
        http,
        old,
        "/v1/certificates",
        old.post_json("certificate.issued", world.certificate_body(world.learner.learner_id)),
    )

    new_key = generate_key()
    _post(
        http,
        old,  # the provider adds its own key, with its own token (h5: key authority)
        f"/v1/actors/{actor_id}/keys",
        old.post_json(  # signed by the actor's current key
            "actor.key_added",
            {"actor_id": actor_id, "public_key": public_key_to_b64(new_key.public_key())},
        ),
    )
    old_id = key_id_of(public_key_to_b64(old_key.public_key()))
    _post(
        http,
        admin,
        f"/v1/actors/{actor_id}/keys/{old_id}/revoke",
        admin.post_json("actor.key_revoked", {"actor_id": actor_id, "key_id": old_id}),
    )

    refused = http.post(
        "/v1/certificates",
        json=old.post_json("certificate.issued", world.certificate_body(world.learner.learner_id)),
        headers=world.bearer(token),
    )
    assert refused.status_code == 422
    assert refused.json()["type"] == "https://creditbank.example/problems/bad-signature"
    new = Actor(actor_id, "provider", actor_id, token, new_key)
    _post(
        http,
        new,
        "/v1/certificates",
        new.post_json("certificate.issued", world.certificate_body(world.learner.learner_id)),
    )


def test_a_provider_registers_and_retires_a_mapping(world: World, http: TestClient) -> None:
    provider = world.provider
    mapping = world.new_mapping_json()
    _post(
        http,
        provider,
        "/v1/mappings",
        provider.post_json("mapping.registered", {"mapping": mapping}),
    )
    # proposed until a registrar of the programme's institution (SOU's) approves it (issue 12)
    assert http.get(f"/v1/catalogue/mappings/{mapping['mapping_id']}").status_code == 404
    proposed = http.get("/v1/catalogue/proposed-mappings", params={"limit": 1000}).json()
    assert mapping in proposed["items"]
    _post(
        http,
        world.registrar,
        f"/v1/mappings/{mapping['mapping_id']}/approve",
        world.registrar.post_json(
            "mapping.approved", {"mapping_id": mapping["mapping_id"], "version": 1}
        ),
    )
    listed = http.get(f"/v1/catalogue/mappings/{mapping['mapping_id']}").json()
    assert listed == [mapping]
    found = http.get(
        "/v1/catalogue/mappings",
        params={
            "provider": provider.name,
            "programme_code": mapping["programme_code"],
            "limit": 1000,
        },
    ).json()
    assert mapping["mapping_id"] in {m["mapping_id"] for m in found["items"]}
    _post(
        http,
        provider,
        f"/v1/mappings/{mapping['mapping_id']}/retire",
        provider.post_json(
            "mapping.retired", {"mapping_id": mapping["mapping_id"], "reason": "superseded"}
        ),
    )
    assert http.get(f"/v1/catalogue/mappings/{mapping['mapping_id']}").status_code == 404


def test_a_registrar_records_credits_and_they_are_banked(world: World, http: TestClient) -> None:
    learner = world.new_learner()
    body = {
        "credit_id": unique("CR"),
        "learner_id": learner.learner_id,
        "institution": "SOU",  # the registrar's own institution (issue 12)
        "course_code": "EA201",
        "credits": "3.5",
        "grade": 91,
        "earned_on": world.today.isoformat(),
    }
    receipt = _post(
        http, world.registrar, "/v1/credits", world.registrar.post_json("credit.earned", body)
    )
    balance = http.get(
        f"/v1/learners/{learner.learner_id}/balance", headers=world.bearer(learner.token)
    ).json()
    assert balance["banked_credits"] == "3.5"
    assert balance["credits_earned"][0]["index"] == receipt["index"]
