"""The authorization matrix: every route against every kind of caller, on SQLite and PostgreSQL.

Each row names a route, how to build a request for it (a fresh, valid entry signed by the caller's
own key when the caller is an actor, so a refusal is about *who* asks, not about a broken entry),
and the status each caller must get. Callers: no token, an admin, a training provider, a
registrar, the learner whose account it is, and another learner.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.credentials.issuance import issue_credential
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.ledger.entry import key_id_of, public_key_to_b64
from creditbank.ledger.keys import generate_key
from creditbank.mapping.programme_json import programme_to_json
from tests.api.world import Actor, World, unique

CALLERS = ("anonymous", "admin", "provider", "registrar", "learner", "other_learner")
ACTOR_ROLES = ("admin", "provider", "registrar")

Build = Callable[[World, Actor], tuple[str, dict[str, Any] | None]]


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    build: Build
    #: status per caller; callers not named get ``default``
    expect: dict[str, int]
    default: int = 403
    anonymous: int = 401
    public: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def status_for(self, caller: str) -> int:
        if caller == "anonymous":
            return 200 if self.public else self.anonymous
        return self.expect.get(caller, 200 if self.public else self.default)


def _get(path: str) -> Build:
    return lambda world, _signer: (path.format(learner=world.learner.learner_id), None)


def _signed(entry_type: str, body: Callable[[World], dict[str, Any]], path: str = "") -> Build:
    def build(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
        data = body(world)
        return path.format(**data) if path else "", signer.post_json(entry_type, data)

    return build


def _programme_body(world: World) -> dict[str, Any]:
    """A new programme of SOU (the world's registrar's institution), SOU-CNC's courses."""
    programme = replace(world.catalog.programme("SOU-CNC"), code=unique("P"))
    return {"programme": programme_to_json(programme), "version": 1, "effective_from": "2020-09-01"}


def _actor_body(world: World) -> dict[str, Any]:
    return {
        "actor_id": unique("prov"),
        "role": "provider",
        "name": "a training provider",
        "public_key": public_key_to_b64(generate_key().public_key()),
    }


def _self_signed_key_added(world: World, _signer: Actor) -> tuple[str, dict[str, Any] | None]:
    """Adding a key is signed by a current key of that actor; an admin token relays it."""
    actor_id, key = world.new_actor_with_key()
    body = {"actor_id": actor_id, "public_key": public_key_to_b64(generate_key().public_key())}
    actor = Actor(actor_id, "provider", actor_id, "", key)
    return f"/v1/actors/{actor_id}/keys", actor.post_json("actor.key_added", body)


def _own_key_added(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
    """Each actor adds a key to itself, signed with its current key and posted with its token."""
    body = {
        "actor_id": signer.actor_id,
        "public_key": public_key_to_b64(generate_key().public_key()),
    }
    return f"/v1/actors/{signer.actor_id}/keys", signer.post_json("actor.key_added", body)


def _key_revoked(world: World) -> dict[str, Any]:
    actor_id, key = world.new_actor_with_key()
    world.bank.submit(
        Actor(actor_id, "provider", actor_id, "", key).sign(
            "actor.key_added",
            {"actor_id": actor_id, "public_key": public_key_to_b64(generate_key().public_key())},
        )
    )
    return {"actor_id": actor_id, "key_id": key_id_of(public_key_to_b64(key.public_key()))}


def _recovery_body(world: World) -> dict[str, Any]:
    actor_id, _lost = world.new_actor_with_key()
    return {
        "actor_id": actor_id,
        "public_key": public_key_to_b64(generate_key().public_key()),
        "reason": "keys-lost",
        "delay_days": 7,
    }


def _own_recovery_cancelled(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
    """Each actor vetoes a recovery an admin started for it; an admin cannot veto for another."""
    target = signer.actor_id
    if signer is world.admin:
        target, _lost = world.new_actor_with_key()
    recovered = public_key_to_b64(generate_key().public_key())
    world.bank.submit(
        world.admin.sign(
            "actor.key_recovered",
            {"actor_id": target, "public_key": recovered, "reason": "keys-lost", "delay_days": 7},
        )
    )
    key_id = key_id_of(recovered)
    body = {"actor_id": target, "key_id": key_id}
    return (
        f"/v1/actors/{target}/keys/{key_id}/cancel-recovery",
        signer.post_json("actor.key_recovery_cancelled", body),
    )


def _register_learner(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
    identity = Identity(name="学员", id_number=unique("ID"), salt=new_salt())
    payload = signer.post_json(
        "learner.registered",
        {"learner_id": new_learner_id(), "commitment": commitment_of(identity)},
    )
    payload["identity"] = {
        "name": identity.name,
        "id_number": identity.id_number,
        "salt": identity.salt,
    }
    return "/v1/learners", payload


def _credit(world: World) -> dict[str, Any]:
    return {
        "credit_id": unique("CR"),
        "learner_id": world.learner.learner_id,
        "institution": "SOU",  # the registrar's own institution
        "course_code": "EA201",
        "credits": "2.5",
        "grade": 77,
        "earned_on": world.today.isoformat(),
    }


def _batch(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
    """Two fresh entries of the signer's own role, through ``POST /v1/batch``."""
    if signer.role == "admin":
        items = [signer.post_json("actor.registered", _actor_body(world)) for _ in range(2)]
    elif signer.role == "provider":
        items = [
            signer.post_json("certificate.issued", world.certificate_body(world.learner.learner_id))
            for _ in range(2)
        ]
    else:
        items = [signer.post_json("credit.earned", _credit(world)) for _ in range(2)]
    return "/v1/batch", {"entries": [{"entry": item, "identity": None} for item in items]}


def _token_for_learner(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
    return "/v1/tokens", {"learner_id": world.learner.learner_id, "label": "matrix"}


def _revoke_token(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
    from creditbank.accounts.tokens import hash_token

    token = world.bank.issue_token(learner_id=world.learner.learner_id, label="to revoke")
    return f"/v1/tokens/{hash_token(token)}", None


def _path(build: Build, path: str) -> Build:
    def with_path(world: World, signer: Actor) -> tuple[str, dict[str, Any] | None]:
        _, body = build(world, signer)
        assert body is not None
        inner = body["entry"]["body"]
        return path.format(**inner), body

    return with_path


READ = {"registrar": 200, "learner": 200, "other_learner": 404}


def _shared_credential(world: World, _signer: Actor) -> tuple[str, None]:
    issuer = CredentialIssuer(generate_key(), "http://testserver")
    issued = issue_credential(
        world.bank, issuer, world.learner.learner_id, include_name=False, now=datetime.now(UTC)
    )
    return f"/v1/credentials/{issued.credential_uuid}", None


def _status_list(world: World, signer: Actor) -> tuple[str, None]:
    _shared_credential(world, signer)  # list 1 exists once a credential was issued
    return "/v1/status-lists/1", None


ROWS = [
    # public
    Row("checkpoint", "GET", _get("/v1/log/checkpoint"), {}, public=True),
    Row("key", "GET", _get("/v1/log/key"), {}, public=True),
    Row("index", "GET", _get("/v1/index/latest"), {}, public=True),
    Row("map proof", "GET", _get("/v1/index/learners/{learner}"), {}, public=True),
    # public, but nothing is cosigned in this world: 404 for everyone alike
    Row("cosigned", "GET", _get("/v1/log/checkpoint/cosigned"), {}, default=404, anonymous=404),
    Row("entry", "GET", _get("/v1/log/entries/0"), {}, public=True),
    Row("entries", "GET", _get("/v1/log/entries?limit=2"), {}, public=True),
    Row("inclusion", "GET", _get("/v1/log/proof/inclusion?index=1"), {}, public=True),
    Row("consistency", "GET", _get("/v1/log/proof/consistency?first=1"), {}, public=True),
    Row("qualifications", "GET", _get("/v1/catalogue/qualifications"), {}, public=True),
    Row("programmes", "GET", _get("/v1/catalogue/programmes"), {}, public=True),
    Row("courses", "GET", _get("/v1/catalogue/courses?limit=5"), {}, public=True),
    Row("mappings", "GET", _get("/v1/catalogue/mappings?mode=through_train"), {}, public=True),
    Row("proposed mappings", "GET", _get("/v1/catalogue/proposed-mappings"), {}, public=True),
    Row("healthz", "GET", _get("/healthz"), {}, public=True),
    Row("readyz", "GET", _get("/readyz"), {}, public=True),
    Row("checkpoint at", "GET", _get("/v1/log/checkpoints/2"), {}, public=True),
    Row(
        "programme",
        "GET",
        lambda w, _s: (f"/v1/catalogue/programmes/{w.recognition.programme_code}", None),
        {},
        public=True,
    ),
    Row(
        "mapping",
        "GET",
        lambda w, _s: (f"/v1/catalogue/mappings/{w.recognition.mapping_id}", None),
        {},
        public=True,
    ),
    # any token
    Row("whoami", "GET", _get("/v1/whoami"), dict.fromkeys(CALLERS, 200)),
    # admin
    Row(
        "register actor",
        "POST",
        _path(_signed("actor.registered", _actor_body), "/v1/actors"),
        {"admin": 201},
    ),
    Row(
        "add key",
        "POST",
        _own_key_added,
        {"admin": 201, "provider": 201, "registrar": 201},
    ),
    Row(
        "revoke key",
        "POST",
        _path(
            _signed("actor.key_revoked", _key_revoked), "/v1/actors/{actor_id}/keys/{key_id}/revoke"
        ),
        {"admin": 201},
    ),
    Row(
        "recover key",
        "POST",
        _path(_signed("actor.key_recovered", _recovery_body), "/v1/actors/{actor_id}/keys/recover"),
        {"admin": 201},
    ),
    Row(
        "cancel key recovery",
        "POST",
        _own_recovery_cancelled,
        {"provider": 201, "registrar": 201},
    ),
    Row("issue token", "POST", _token_for_learner, {"admin": 201, "registrar": 201}),
    Row("revoke token", "DELETE", _revoke_token, {"admin": 204}),
    Row("admin audit", "GET", _get("/v1/admin/audit"), {"admin": 200}),
    # provider
    Row(
        "register mapping",
        "POST",
        _path(
            _signed("mapping.registered", lambda w: {"mapping": w.new_mapping_json()}),
            "/v1/mappings",
        ),
        {"provider": 201},
    ),
    Row(
        "retire mapping",
        "POST",
        _path(
            _signed(
                "mapping.retired", lambda w: {"mapping_id": w.new_mapping(), "reason": "superseded"}
            ),
            "/v1/mappings/{mapping_id}/retire",
        ),
        # issue 12: either side retires: its provider, or a registrar of the programme's
        # institution (the world's registrar is SOU's, and every shipped programme is SOU's)
        {"provider": 201, "registrar": 201},
    ),
    Row(
        "register programme",
        "POST",
        _path(_signed("programme.registered", _programme_body), "/v1/programmes"),
        {"registrar": 201},
    ),
    Row(
        "approve mapping",
        "POST",
        _path(
            _signed("mapping.approved", lambda w: {"mapping_id": w.new_mapping(), "version": 1}),
            "/v1/mappings/{mapping_id}/approve",
        ),
        {"registrar": 201},
    ),
    Row(
        "issue certificate",
        "POST",
        _path(
            _signed("certificate.issued", lambda w: w.certificate_body(w.learner.learner_id)),
            "/v1/certificates",
        ),
        {"provider": 201},
    ),
    Row(
        "revoke certificate",
        "POST",
        _path(
            _signed(
                "certificate.revoked",
                lambda w: {
                    "certificate_id": w.new_certificate(w.learner.learner_id),
                    "reason": "entered-in-error",
                },
            ),
            "/v1/certificates/{certificate_id}/revoke",
        ),
        {"provider": 201},
    ),
    # registrar
    Row("register learner", "POST", _register_learner, {"registrar": 201}),
    Row(
        "record credit",
        "POST",
        _path(_signed("credit.earned", _credit), "/v1/credits"),
        {"registrar": 201},
    ),
    Row(
        "post conversion",
        "POST",
        _path(
            _signed(
                "conversion.posted", lambda w: w.conversion_body(w.convertible_learner().learner_id)
            ),
            "/v1/conversions",
        ),
        {"registrar": 201},
    ),
    Row(
        "reverse conversion",
        "POST",
        _path(
            _signed(
                "conversion.reversed",
                lambda w: {"conversion_id": w.new_conversion()[0], "reason": "entered-in-error"},
            ),
            "/v1/conversions/{conversion_id}/reverse",
        ),
        {"registrar": 201},
    ),
    # any actor: several of its own entries at once (each item checked like its single route)
    Row(
        "batch",
        "POST",
        _batch,
        {"admin": 201, "provider": 201, "registrar": 201},
    ),
    # a learner's account: the learner or a registrar
    Row("balance", "GET", _get("/v1/learners/{learner}/balance"), READ),
    Row("balance as of", "GET", _get("/v1/learners/{learner}/balance?as_of=2026-01-01"), READ),
    Row(
        "progress",
        "GET",
        lambda w, _s: (
            f"/v1/learners/{w.learner.learner_id}/progress?programme_code="
            f"{w.setup.programmes[w.learner.learner_id]}",
            None,
        ),
        READ,
    ),
    Row("expiring", "GET", _get("/v1/learners/{learner}/expiring?days=365"), READ),
    Row(
        "plan",
        "GET",
        lambda w, _s: (
            f"/v1/learners/{w.learner.learner_id}/plan?programme_code="
            f"{w.recognition.programme_code}",
            None,
        ),
        READ,
    ),
    Row(
        "what-if plan",
        "POST",
        lambda w, _s: (
            f"/v1/learners/{w.learner.learner_id}/plan",
            {
                "programme_code": w.recognition.programme_code,
                "what_if": {
                    "certificates": [
                        {
                            "holding_id": "what-if-1",
                            "qualification_code": w.recognition.qualification_requirements[0].code,
                            "level": 1,
                            "what_if": True,
                        }
                    ]
                },
            },
        ),
        READ,
    ),
    Row("transcript", "GET", _get("/v1/learners/{learner}/transcript"), READ),
    # cohort imports and reports
    Row(
        "known nonces",
        "POST",
        lambda _w, _s: ("/v1/imports/known-nonces", {"nonces": ["imp-cert-0"]}),
        {"admin": 200, "provider": 200, "registrar": 200},
    ),
    Row(
        "conversions report",
        "GET",
        lambda w, _s: (
            f"/v1/reports/programmes/{w.recognition.programme_code}/conversions"
            "?from=2026-01-01&to=2026-12-31",
            None,
        ),
        {"admin": 200, "registrar": 200},
    ),
    Row(
        "roster report",
        "GET",
        lambda w, _s: (f"/v1/reports/programmes/{w.recognition.programme_code}/roster", None),
        {"admin": 200, "registrar": 200},
    ),
    Row(
        "certificates report",
        "GET",
        lambda _w, _s: ("/v1/reports/certificates?from=2026-01-01&to=2026-12-31", None),
        {"provider": 200},
    ),
    # credentials
    Row("credential", "GET", _get("/v1/learners/{learner}/credential"), READ),
    Row("credential pdf", "GET", _get("/v1/learners/{learner}/credential.pdf"), READ),
    Row(
        "credential with name",
        "GET",
        _get("/v1/learners/{learner}/credential?include_name=true"),
        {"learner": 200, "other_learner": 404},
    ),
    Row("shared credential", "GET", _shared_credential, {}, public=True),
    Row("status list", "GET", _status_list, {}, public=True),
    Row("did document", "GET", _get("/.well-known/did.json"), {}, public=True),
]


def _token(world: World, caller: str) -> str | None:
    return {
        "anonymous": None,
        "admin": world.admin.token,
        "provider": world.provider.token,
        "registrar": world.registrar.token,
        "learner": world.learner.token,
        "other_learner": world.other_learner.token,
    }[caller]


def _signer(world: World, caller: str) -> Actor:
    """The caller's own key when it has one; learners (and nobody) have none: use a registrar's."""
    return {"admin": world.admin, "provider": world.provider}.get(caller, world.registrar)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_route_answers_each_caller_as_the_matrix_says(
    world: World, http: TestClient, row: Row, caller: str
) -> None:
    path, body = row.build(world, _signer(world, caller))
    token = _token(world, caller)
    headers = world.bearer(token) if token else {}
    answer = http.request(row.method, path, json=body, headers=headers)
    expected = row.status_for(caller)
    assert answer.status_code == expected, answer.text
    if expected >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["status"] == expected
        assert problem["type"].startswith("https://creditbank.example/problems/")
    if expected == 401:
        assert answer.headers["www-authenticate"] == "Bearer"


def test_every_route_of_the_app_is_in_the_matrix(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    """A new route cannot ship without a row (and so without an authorization decision)."""
    spec = sqlite_http.get("/openapi.json").json()
    routes = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    built = {
        (row.method, row.build(sqlite_world, sqlite_world.registrar)[0].partition("?")[0])
        for row in ROWS
    }
    for method, template in sorted(routes):
        pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")
        assert any(m == method and pattern.match(p) for m, p in built), (method, template)
    assert len(built) >= len(routes)


# --- ownership: what only the bank can know ------------------------------------------------


def test_a_provider_cannot_revoke_another_providers_certificate(
    world: World, http: TestClient
) -> None:
    certificate = world.new_certificate(world.learner.learner_id)
    other = world.other_provider
    answer = http.post(
        f"/v1/certificates/{certificate}/revoke",
        json=other.post_json(
            "certificate.revoked", {"certificate_id": certificate, "reason": "entered-in-error"}
        ),
        headers=world.bearer(other.token),
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["type"] == "https://creditbank.example/problems/forbidden"


def test_a_provider_cannot_retire_another_providers_mapping(world: World, http: TestClient) -> None:
    mapping_id = world.new_mapping()
    other = world.other_provider
    answer = http.post(
        f"/v1/mappings/{mapping_id}/retire",
        json=other.post_json(
            "mapping.retired", {"mapping_id": mapping_id, "reason": "entered-in-error"}
        ),
        headers=world.bearer(other.token),
    )
    assert answer.status_code == 403, answer.text


def test_a_provider_cannot_register_a_mapping_naming_another_provider(
    world: World, http: TestClient
) -> None:
    other = world.other_provider
    answer = http.post(
        "/v1/mappings",
        json=other.post_json("mapping.registered", {"mapping": world.new_mapping_json()}),
        headers=world.bearer(other.token),
    )
    assert answer.status_code == 403, answer.text


def test_a_token_does_not_lend_its_authority_to_another_actors_entry(
    world: World, http: TestClient
) -> None:
    """A provider's token with an entry signed by another provider: 403, nothing appended."""
    size = world.bank.log.size()
    answer = http.post(
        "/v1/certificates",
        json=world.other_provider.post_json(
            "certificate.issued", world.certificate_body(world.learner.learner_id)
        ),
        headers=world.bearer(world.provider.token),
    )
    assert answer.status_code == 403, answer.text
    assert world.bank.log.size() == size


def test_a_registrar_may_not_issue_actor_tokens(world: World, http: TestClient) -> None:
    answer = http.post(
        "/v1/tokens",
        json={"actor_id": world.provider.actor_id},
        headers=world.bearer(world.registrar.token),
    )
    assert answer.status_code == 403


def test_a_revoked_token_stops_working(world: World, http: TestClient) -> None:
    issued = http.post(
        "/v1/tokens",
        json={"learner_id": world.learner.learner_id, "label": "phone"},
        headers=world.bearer(world.admin.token),
    ).json()
    balance = f"/v1/learners/{world.learner.learner_id}/balance"
    assert http.get(balance, headers=world.bearer(issued["token"])).status_code == 200
    revoked = http.delete(
        f"/v1/tokens/{issued['token_id']}", headers=world.bearer(world.admin.token)
    )
    assert revoked.status_code == 204
    assert http.get(balance, headers=world.bearer(issued["token"])).status_code == 401


#: Institution-bound writes (issue 12): the matrix's registrar is SOU's and may post each (above);
#: a registrar of another institution may post none of them into SOU's programmes.
INSTITUTION_ROWS = [
    row
    for row in ROWS
    if row.name
    in {
        "register programme",
        "retire mapping",
        "approve mapping",
        "post conversion",
        "reverse conversion",
    }
]


@pytest.mark.parametrize("row", INSTITUTION_ROWS, ids=[row.name for row in INSTITUTION_ROWS])
def test_a_registrar_of_another_institution_is_refused(
    world: World, http: TestClient, row: Row
) -> None:
    other = world.new_registrar("SSPU")
    path, body = row.build(world, other)
    before = world.bank.log.size()
    answer = http.request(row.method, path, json=body, headers=world.bearer(other.token))
    assert answer.status_code == 403, answer.text
    assert "SSPU" in answer.json()["detail"] and "SOU" in answer.json()["detail"]
    assert world.bank.log.size() == before


def test_a_registrar_records_credits_of_its_own_institution_only(
    world: World, http: TestClient
) -> None:
    other = world.new_registrar("SSPU")
    body = _credit(world)  # a SOU credit
    answer = http.post(
        "/v1/credits",
        json=other.post_json("credit.earned", body),
        headers=world.bearer(other.token),
    )
    assert answer.status_code == 403, answer.text
    own = {**_credit(world), "institution": "SSPU", "course_code": "ME1021"}
    answer = http.post(
        "/v1/credits", json=other.post_json("credit.earned", own), headers=world.bearer(other.token)
    )
    assert answer.status_code == 201, answer.text
