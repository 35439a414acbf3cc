"""Bad input answers the right RFC 9457 problem, never a 500, and never appends anything.

Malformed JSON, wrong types, oversize bodies, bad signatures, replayed nonces, unknown ids,
floats, entries of the wrong type or by the wrong actor: each has its own problem ``type``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from creditbank import errors
from creditbank.api.app import create_app
from creditbank.api.config import ApiConfig
from creditbank.api.errors import HTTP_PROBLEMS, PROBLEM_BASE, PROBLEM_TYPES, problem_for
from creditbank.client.problems import PROBLEM_ERRORS
from tests.api.world import World

P = PROBLEM_BASE


def _problem(answer: Any, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["type"] == P + slug, body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    return body


@pytest.fixture
def certificate(sqlite_world: World) -> dict[str, Any]:
    """A valid signed certificate.issued payload (not yet posted)."""
    world = sqlite_world
    return world.provider.post_json(
        "certificate.issued", world.certificate_body(world.learner.learner_id)
    )


def _post(
    world: World, http: TestClient, payload: Any, path: str = "/v1/certificates", **kwargs: Any
) -> Any:
    headers = {**world.bearer(world.provider.token), **kwargs.pop("headers", {})}
    if isinstance(payload, bytes | str):
        return http.post(
            path, content=payload, headers={"Content-Type": "application/json", **headers}, **kwargs
        )
    return http.post(path, json=payload, headers=headers, **kwargs)


def test_malformed_json_is_400(sqlite_world: World, sqlite_http: TestClient) -> None:
    answer = _post(sqlite_world, sqlite_http, b'{"entry": {"type": ')
    _problem(answer, 400, "malformed-json")


def test_a_body_that_is_not_json_is_415(sqlite_world: World, sqlite_http: TestClient) -> None:
    answer = sqlite_http.post(
        "/v1/certificates",
        content=b"entry=1",
        headers={**sqlite_world.bearer(sqlite_world.provider.token), "Content-Type": "text/plain"},
    )
    _problem(answer, 415, "unsupported-media-type")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(entry="not an object"),
        lambda p: p["entry"].update(nonce=12345678),
        lambda p: p["signature"].update(alg="RSA"),
        lambda p: p.pop("signature"),
        lambda p: p.update(extra="field"),
    ],
    ids=["entry-not-object", "nonce-not-string", "wrong-alg", "no-signature", "unknown-field"],
)
def test_wrong_shapes_and_types_are_422_with_each_field_named(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any], mutate: Any
) -> None:
    mutate(certificate)
    body = _problem(_post(sqlite_world, sqlite_http, certificate), 422, "validation")
    assert body["errors"] and all("loc" in e and "msg" in e for e in body["errors"])


def test_an_oversize_body_is_413(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    certificate["entry"]["body"]["padding"] = "x" * (300 * 1024)
    _problem(_post(sqlite_world, sqlite_http, certificate), 413, "payload-too-large")


def test_the_body_limit_is_the_apps_setting(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    certificate["entry"]["body"]["padding"] = "x" * 2048
    assert _post(sqlite_world, sqlite_http, certificate).status_code != 413
    small = create_app(sqlite_world.bank, config=ApiConfig(max_body_bytes=2048))
    with TestClient(small) as http:
        _problem(_post(sqlite_world, http, certificate), 413, "payload-too-large")
        chunked = http.post(
            "/v1/certificates",
            content=iter([b"{" + b" " * 1500, b" " * 1500 + b"}"]),
            headers={
                **sqlite_world.bearer(sqlite_world.provider.token),
                "Content-Type": "application/json",
            },
        )
        _problem(chunked, 413, "payload-too-large")


def test_a_bad_signature_is_422_and_appends_nothing(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    size = sqlite_world.bank.log.size()
    certificate["entry"]["body"]["level"] = 1  # signed for another level
    _problem(_post(sqlite_world, sqlite_http, certificate), 422, "bad-signature")
    assert sqlite_world.bank.log.size() == size


def test_a_key_that_is_not_the_actors_is_422(sqlite_world: World, sqlite_http: TestClient) -> None:
    """Signed correctly, but with another provider's key under this provider's name."""
    world = sqlite_world
    other = world.other_provider
    signed = other.signer.sign(
        "certificate.issued",
        {"v": 1, **world.certificate_body(world.learner.learner_id)},
    ).to_json()
    signed["entry"]["actor"] = world.provider.actor_id
    forged = world.provider.sign("certificate.issued", signed["entry"]["body"]).to_json()
    forged["signature"] = signed["signature"]  # a valid signature, but of another entry and key
    _problem(_post(world, sqlite_http, forged), 422, "bad-signature")


def test_a_byte_identical_retry_answers_the_original_receipt(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    first = _post(sqlite_world, sqlite_http, certificate)
    assert first.status_code == 201
    size = sqlite_world.bank.log.size()
    again = _post(
        sqlite_world,
        sqlite_http,
        certificate,
        headers={"Idempotency-Key": certificate["entry"]["nonce"]},
    )
    assert again.status_code == 200
    assert again.headers["idempotency-replayed"] == "true"
    replay = again.json()
    assert replay.pop("replayed") is True
    original = first.json()
    assert original.pop("replayed") is False
    assert replay == original
    assert sqlite_world.bank.log.size() == size


def test_a_different_entry_under_a_used_nonce_is_409(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    world = sqlite_world
    assert _post(world, sqlite_http, certificate).status_code == 201
    reused = world.provider.sign(
        "certificate.issued",
        world.certificate_body(world.learner.learner_id),
        nonce=certificate["entry"]["nonce"],
    ).to_json()
    _problem(_post(world, sqlite_http, reused), 409, "duplicate-nonce")


def test_an_idempotency_key_other_than_the_nonce_is_422(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    answer = _post(sqlite_world, sqlite_http, certificate, headers={"Idempotency-Key": "other-key"})
    _problem(answer, 422, "invalid-input")


def test_floats_are_refused_as_not_canonical(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    certificate["entry"]["body"]["level"] = 3.0
    _problem(_post(sqlite_world, sqlite_http, certificate), 422, "not-canonical")


def test_an_entry_of_another_type_is_refused_by_the_route(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world = sqlite_world
    payload = world.provider.post_json(
        "mapping.retired", {"mapping_id": "whatever", "reason": "entered-in-error"}
    )
    body = _problem(_post(world, sqlite_http, payload), 422, "invalid-entry")
    assert "certificate.issued" in body["detail"]


def test_a_path_id_must_match_the_entry(sqlite_world: World, sqlite_http: TestClient) -> None:
    world = sqlite_world
    certificate = world.new_certificate(world.learner.learner_id)
    payload = world.provider.post_json(
        "certificate.revoked", {"certificate_id": certificate, "reason": "entered-in-error"}
    )
    answer = _post(world, sqlite_http, payload, path="/v1/certificates/SOMETHING-ELSE/revoke")
    _problem(answer, 422, "invalid-entry")


def test_a_malformed_body_of_a_known_type_is_422(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    world = sqlite_world
    body = world.certificate_body(world.learner.learner_id)
    body["level"] = 9
    payload = world.provider.post_json("certificate.issued", body)
    _problem(_post(world, sqlite_http, payload), 422, "invalid-entry")


@pytest.mark.parametrize(
    ("path", "status", "slug"),
    [
        ("/v1/learners/L-0000000000000000/balance", 404, "not-found"),
        ("/v1/learners/L-0000000000000000/transcript", 404, "not-found"),
        ("/v1/catalogue/programmes/NO-SUCH", 404, "not-found"),
        ("/v1/catalogue/mappings/NO-SUCH", 404, "not-found"),
        ("/v1/no/such/route", 404, "not-found"),
        ("/v1/learners/L-0000000000000000/plan?programme_code=NO-SUCH", 404, "not-found"),
    ],
)
def test_unknown_ids_and_routes_are_404(
    sqlite_world: World, sqlite_http: TestClient, path: str, status: int, slug: str
) -> None:
    answer = sqlite_http.get(path, headers=sqlite_world.bearer(sqlite_world.registrar.token))
    _problem(answer, status, slug)


def test_unknown_ids_in_entries_are_404(sqlite_world: World, sqlite_http: TestClient) -> None:
    world = sqlite_world
    body = world.certificate_body("L-0000000000000000")
    answer = _post(world, sqlite_http, world.provider.post_json("certificate.issued", body))
    _problem(answer, 404, "not-found")
    reverse = world.registrar.post_json(
        "conversion.reversed", {"conversion_id": "CV-NOPE", "reason": "entered-in-error"}
    )
    answer = sqlite_http.post(
        "/v1/conversions/CV-NOPE/reverse", json=reverse, headers=world.bearer(world.registrar.token)
    )
    _problem(answer, 404, "not-found")


def test_a_rule_violation_names_its_rule(sqlite_world: World, sqlite_http: TestClient) -> None:
    world = sqlite_world
    body = world.certificate_body(world.learner.learner_id)
    body["issued_on"] = "2999-01-01"
    answer = _post(world, sqlite_http, world.provider.post_json("certificate.issued", body))
    problem = _problem(answer, 409, "rule/date-in-future")
    assert problem["code"] == "date-in-future"


def test_an_existing_id_is_a_409_conflict(sqlite_world: World, sqlite_http: TestClient) -> None:
    world = sqlite_world
    body = world.certificate_body(world.learner.learner_id)
    assert (
        _post(world, sqlite_http, world.provider.post_json("certificate.issued", body)).status_code
        == 201
    )
    again = world.provider.post_json("certificate.issued", body)  # same id, new nonce
    _problem(_post(world, sqlite_http, again), 409, "conflict")


def test_no_or_unknown_token_is_401(
    sqlite_world: World, sqlite_http: TestClient, certificate: dict[str, Any]
) -> None:
    for headers in ({}, {"Authorization": "Bearer cbt_nope"}, {"Authorization": "Basic abc"}):
        answer = sqlite_http.post("/v1/certificates", json=certificate, headers=headers)
        _problem(answer, 401, "unauthenticated")
        assert answer.headers["www-authenticate"] == "Bearer"


def test_a_wrong_method_is_405(sqlite_http: TestClient) -> None:
    _problem(sqlite_http.delete("/v1/log/checkpoint"), 405, "method-not-allowed")


def test_bad_query_values_are_422(sqlite_world: World, sqlite_http: TestClient) -> None:
    headers = sqlite_world.bearer(sqlite_world.learner.token)
    learner = sqlite_world.learner.learner_id
    for path in (
        f"/v1/learners/{learner}/balance?as_of=yesterday",
        f"/v1/learners/{learner}/expiring?days=0",
        f"/v1/learners/{learner}/progress",
        "/v1/catalogue/mappings?mode=teleportation",
    ):
        _problem(sqlite_http.get(path, headers=headers), 422, "validation")


def test_a_malformed_what_if_is_422(sqlite_world: World, sqlite_http: TestClient) -> None:
    world = sqlite_world
    answer = sqlite_http.post(
        f"/v1/learners/{world.learner.learner_id}/plan",
        json={
            "programme_code": world.recognition.programme_code,
            "what_if": {"certificates": [{"holding_id": "x", "level": "high"}]},
        },
        headers=world.bearer(world.learner.token),
    )
    _problem(answer, 422, "invalid-holdings")


def test_cors_allows_reading_public_data_from_any_origin(sqlite_http: TestClient) -> None:
    answer = sqlite_http.options(
        "/v1/log/checkpoint",
        headers={"Origin": "https://verifier.example", "Access-Control-Request-Method": "GET"},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers


# --- the tables themselves ------------------------------------------------------------------


def test_subclasses_come_before_their_parents_in_the_table() -> None:
    classes = [cls for cls, _ in PROBLEM_TYPES]
    for i, cls in enumerate(classes):
        for later in classes[i + 1 :]:
            assert not issubclass(later, cls), f"{later.__name__} is shadowed by {cls.__name__}"


def test_every_error_class_has_a_problem_type_and_the_client_maps_it_back() -> None:
    every = [getattr(errors, name) for name in errors.__all__]
    classes = [c for c in every if isinstance(c, type) and issubclass(c, errors.CreditbankError)]
    samples: dict[type[errors.CreditbankError], errors.CreditbankError] = {
        errors.MapLoadError: errors.MapLoadError([]),
        errors.CatalogError: errors.CatalogError(["x"]),
    }
    for cls in classes:
        exc = samples.get(cls) or cls("x")
        problem, _ = problem_for(exc)
        assert problem.status != 500 or cls in (errors.TamperError, errors.CreditbankError)
        if problem.slug.startswith("rule/"):
            continue
        rebuilt = PROBLEM_ERRORS[problem.slug](str(exc))
        assert isinstance(rebuilt, type(exc)) or isinstance(exc, type(rebuilt)), cls
    for problem in HTTP_PROBLEMS.values():
        assert problem.slug in PROBLEM_ERRORS


def test_problem_documents_are_valid_json_objects(sqlite_http: TestClient) -> None:
    answer = sqlite_http.get("/v1/log/entries/999999")
    assert json.loads(answer.content)["instance"] == "/v1/log/entries/999999"


def test_the_openapi_document_lists_examples_and_problem_answers(sqlite_http: TestClient) -> None:
    spec = sqlite_http.get("/openapi.json").json()
    post = spec["paths"]["/v1/certificates"]["post"]
    assert set(post["responses"]["409"]["content"]) == {"application/problem+json"}
    schemas = spec["components"]["schemas"]
    assert schemas["SignedEntryIn"]["examples"]
    assert schemas["Problem"]["examples"]
    assert sqlite_http.get("/docs").status_code == 200
