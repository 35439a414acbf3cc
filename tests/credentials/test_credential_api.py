"""The credential over HTTP: who may ask, what it says, sharing, did.json and status lists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from creditbank.accounts.credential_rows import IssuedCredentialRow
from creditbank.accounts.replay import rebuild
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.credentials.status_list import read_status_bit
from creditbank.credentials.verification import verify_credential
from creditbank.ledger.entry import public_key_to_b64
from creditbank.ledger.sql import SqlLogStore
from tests.api.world import World


def _credential(http: TestClient, world: World, learner_id: str, token: str, **params: Any) -> Any:
    response = http.get(
        f"/v1/learners/{learner_id}/credential", headers=world.bearer(token), params=params
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vc")
    return response.json()


def test_learner_gets_a_verifiable_clr_credential(
    http: TestClient, world: World, issuer: CredentialIssuer
) -> None:
    conversion_id, learner_id = world.new_conversion()
    token = world.bank.issue_token(learner_id=learner_id)
    doc = _credential(http, world, learner_id, token)
    assert doc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert {"VerifiableCredential", "ClrCredential"} <= set(doc["type"])
    assert doc["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert doc["proof"]["verificationMethod"] == issuer.verification_method
    assert doc["credentialSubject"]["id"] == f"urn:creditbank:learner:{learner_id}"
    assert "identifier" not in doc["credentialSubject"]
    kinds = [
        vc["credentialSubject"]["creditbank"]["kind"]
        for vc in doc["credentialSubject"]["verifiableCredential"]
    ]
    assert kinds.count("certificate") == 1 and "recognition" in kinds
    assert "programme_total" in kinds
    recognition = next(
        vc["credentialSubject"]["creditbank"]
        for vc in doc["credentialSubject"]["verifiableCredential"]
        if vc["credentialSubject"]["creditbank"]["kind"] == "recognition"
    )
    assert recognition["conversion_id"] == conversion_id
    status = http.get(
        doc["credentialStatus"]["statusListCredential"].removeprefix("http://testserver")
    ).json()
    passed: list[str] = []
    verified = verify_credential(
        doc,
        now=datetime.now(UTC),
        log_keys=[world.bank.log.verifier],
        status_list=status,
        issuer_methods=http.get("/.well-known/did.json").json()["assertionMethod"],
        on_pass=passed.append,
    )
    assert verified.learner_id == learner_id and not verified.log_key_from_credential
    assert any("not revoked" in line for line in passed)


def test_same_history_same_credential_and_share_url(http: TestClient, world: World) -> None:
    learner = world.convertible_learner()
    first = http.get(
        f"/v1/learners/{learner.learner_id}/credential", headers=world.bearer(learner.token)
    )
    again = _credential(http, world, learner.learner_id, learner.token)
    assert again == first.json()
    share = first.headers["Link"].split(">")[0].removeprefix("<http://testserver")
    public = http.get(share)  # no token: the random id is the capability
    assert public.status_code == 200 and public.json() == again
    world.new_certificate(learner.learner_id)
    changed = _credential(http, world, learner.learner_id, learner.token)
    assert changed["id"] != again["id"]


def test_name_only_on_the_learners_request(http: TestClient, world: World) -> None:
    learner = world.new_learner()
    doc = _credential(http, world, learner.learner_id, learner.token, include_name="true")
    assert doc["credentialSubject"]["identifier"][0]["identityHash"] == "测试学员"
    registrar = world.registrar.token
    denied = http.get(
        f"/v1/learners/{learner.learner_id}/credential",
        headers=world.bearer(registrar),
        params={"include_name": "true"},
    )
    assert denied.status_code == 403
    plain = _credential(http, world, learner.learner_id, registrar)
    assert "identifier" not in plain["credentialSubject"]


def test_access_like_other_learner_routes(http: TestClient, world: World) -> None:
    url = f"/v1/learners/{world.learner.learner_id}/credential"
    assert http.get(url).status_code == 401
    assert http.get(url, headers=world.bearer(world.other_learner.token)).status_code == 404
    assert http.get(url, headers=world.bearer(world.provider.token)).status_code == 403
    assert http.get("/v1/credentials/00000000-0000-4000-8000-000000000000").status_code == 404
    assert http.get("/v1/credentials/not-a-uuid").status_code == 422
    assert http.get("/v1/status-lists/999").status_code == 404


def test_revocation_after_issue_sets_the_bit(http: TestClient, world: World) -> None:
    learner = world.convertible_learner()
    cert_body = world.certificate_body(learner.learner_id)
    world.bank.submit(world.provider.sign("certificate.issued", cert_body))
    doc = _credential(http, world, learner.learner_id, learner.token)
    list_url = doc["credentialStatus"]["statusListCredential"].removeprefix("http://testserver")
    assert read_status_bit(doc["credentialStatus"], http.get(list_url).json()) is False
    world.bank.submit(
        world.provider.sign(
            "certificate.revoked",
            {"certificate_id": cert_body["certificate_id"], "reason": "entered-in-error"},
        )
    )
    status = http.get(list_url).json()
    assert read_status_bit(doc["credentialStatus"], status) is True
    fresh = _credential(http, world, learner.learner_id, learner.token)
    assert fresh["id"] != doc["id"]
    assert read_status_bit(fresh["credentialStatus"], http.get(list_url).json()) is False


def test_did_document_lists_the_issuing_key(http: TestClient, issuer: CredentialIssuer) -> None:
    doc = http.get("/.well-known/did.json").json()
    assert doc["id"] == "did:web:testserver"
    assert doc["assertionMethod"] == [issuer.verification_method]


def test_erasure_withdraws_a_named_credential(http: TestClient, world: World) -> None:
    learner = world.convertible_learner()
    headers = world.bearer(learner.token)
    named = http.get(
        f"/v1/learners/{learner.learner_id}/credential",
        headers=headers,
        params={"include_name": "true"},
    )
    share = named.headers["Link"].split(">")[0].removeprefix("<http://testserver")
    assert http.get(share).status_code == 200
    world.bank.erase_learner(learner.learner_id)
    assert http.get(share).status_code == 404
    doc = named.json()
    list_url = doc["credentialStatus"]["statusListCredential"].removeprefix("http://testserver")
    assert read_status_bit(doc["credentialStatus"], http.get(list_url).json()) is True


def _entries_of(world: World, entry_type: str) -> list[tuple[int, dict[str, Any]]]:
    size = world.bank.log.size()
    found = []
    for index in range(size):
        leaf = world.bank.log.leaf(index)
        if leaf.entry.type == entry_type:
            found.append((index, leaf.entry.body))
    return found


def test_key_registration_and_status_changes_are_log_entries(
    http: TestClient, world: World, issuer: CredentialIssuer
) -> None:
    learner = world.convertible_learner()
    body = world.certificate_body(learner.learner_id)
    world.bank.submit(world.provider.sign("certificate.issued", body))
    doc = _credential(http, world, learner.learner_id, learner.token)
    registered = _entries_of(world, "credential_key.registered")
    assert [b["public_key"] for _i, b in registered] == [
        public_key_to_b64(issuer.private_key.public_key())
    ]
    world.bank.submit(
        world.provider.sign(
            "certificate.revoked",
            {"certificate_id": body["certificate_id"], "reason": "fraud"},
        )
    )
    http.get(doc["credentialStatus"]["statusListCredential"].removeprefix("http://testserver"))
    http.get(doc["credentialStatus"]["statusListCredential"].removeprefix("http://testserver"))
    index = int(doc["credentialStatus"]["statusListIndex"])
    changed = [b for _i, b in _entries_of(world, "credential.status_changed")]
    mine = [b for b in changed if b["status_index"] == index]
    assert len(mine) == 1 and mine[0]["reason"] == "source-withdrawn"
    assert "learner_id" not in mine[0]
    # A rebuild replays both kinds without disturbing what they projected.
    with Session(world.bank.engine) as session:
        before = session.exec(select(IssuedCredentialRow)).all()
        before_rows = sorted((r.credential_id, r.revoked_index) for r in before)
    rebuild(SqlLogStore(world.bank.engine))
    with Session(world.bank.engine) as session:
        after = session.exec(select(IssuedCredentialRow)).all()
        assert sorted((r.credential_id, r.revoked_index) for r in after) == before_rows


def test_unknown_learner_is_404_and_appends_nothing(http: TestClient, world: World) -> None:
    size = world.bank.log.size()
    answer = http.get(
        "/v1/learners/L-0000000000000000/credential", headers=world.bearer(world.registrar.token)
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert world.bank.log.size() == size
