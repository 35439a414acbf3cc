"""``POST /v1/batch`` and ``CreditbankClient.submit_batch``: all or nothing, idempotent, each item
checked as its single route checks it, a refusal naming its item."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.api.submission import MAX_BATCH_ITEMS
from creditbank.client import CreditbankClient
from creditbank.errors import NotFoundError, PermissionDenied
from creditbank.ledger.entry import SignedEntry
from tests.api.world import Actor, World, unique


def _registration(world: World) -> tuple[SignedEntry, Identity, str]:
    identity = Identity(name="批量学员", id_number=unique("ID"), salt=new_salt())
    learner_id = new_learner_id()
    signed = world.registrar.sign(
        "learner.registered", {"learner_id": learner_id, "commitment": commitment_of(identity)}
    )
    return signed, identity, learner_id


def _credit(world: World, learner_id: str) -> SignedEntry:
    return world.registrar.sign(
        "credit.earned",
        {
            "credit_id": unique("CR"),
            "learner_id": learner_id,
            "institution": "SOU",
            "course_code": "C-101",
            "credits": "2.5",
            "grade": 88,
            "earned_on": world.today.isoformat(),
        },
    )


def _item(signed: SignedEntry, identity: Identity | None = None) -> dict[str, Any]:
    return {
        "entry": signed.to_json(),
        "identity": None
        if identity is None
        else {"name": identity.name, "id_number": identity.id_number, "salt": identity.salt},
    }


def _post(http: TestClient, actor: Actor, items: list[dict[str, Any]]) -> Any:
    return http.post(
        "/v1/batch", json={"entries": items}, headers={"Authorization": f"Bearer {actor.token}"}
    )


def test_a_batch_appends_every_item_under_one_checkpoint(world: World, http: TestClient) -> None:
    registration, identity, learner_id = _registration(world)
    credits = [_credit(world, learner_id) for _ in range(3)]
    answer = _post(
        http, world.registrar, [_item(registration, identity), *(_item(c) for c in credits)]
    )
    assert answer.status_code == 201, answer.text
    receipts = answer.json()["receipts"]
    assert [r["entry_type"] for r in receipts] == ["learner.registered"] + ["credit.earned"] * 3
    first = receipts[0]["index"]
    assert [r["index"] for r in receipts] == list(range(first, first + 4))
    assert len({r["checkpoint"] for r in receipts}) == 1
    assert receipts[0]["tree_size"] == first + 4
    appended = [leaf.entry for _, leaf in world.bank.log.leaves(first, first + 4)]
    assert [e.nonce for e in appended] == [registration.entry.nonce] + [
        c.entry.nonce for c in credits
    ]


def test_a_refused_item_appends_nothing_and_names_the_item(world: World, http: TestClient) -> None:
    registration, identity, learner_id = _registration(world)
    before = world.bank.log.size()
    answer = _post(
        http,
        world.registrar,
        [
            _item(registration, identity),
            _item(_credit(world, learner_id)),
            _item(_credit(world, new_learner_id())),  # nobody: refused
        ],
    )
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["item"] == 2
    assert problem["type"].endswith("/not-found")
    assert world.bank.log.size() == before
    assert _post(http, world.registrar, [_item(registration, identity)]).status_code == 201


def test_a_retried_batch_answers_the_original_receipts(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world, http = sqlite_world, sqlite_http
    registration, identity, learner_id = _registration(world)
    items = [_item(registration, identity), _item(_credit(world, learner_id))]
    first = _post(http, world.registrar, items)
    assert first.status_code == 201, first.text
    size = world.bank.log.size()
    again = _post(http, world.registrar, items)
    assert again.status_code == 200, again.text
    assert again.headers["idempotency-replayed"] == "true"
    assert [r["index"] for r in again.json()["receipts"]] == [
        r["index"] for r in first.json()["receipts"]
    ]
    assert all(r["replayed"] for r in again.json()["receipts"])
    assert world.bank.log.size() == size
    # a batch mixing a replayed entry with a new one appends only the new one
    extra = _credit(world, learner_id)
    mixed = _post(http, world.registrar, [items[1], _item(extra)])
    assert mixed.status_code == 201, mixed.text
    receipts = mixed.json()["receipts"]
    assert receipts[0]["replayed"] and not receipts[1]["replayed"]
    assert world.bank.log.size() == size + 1


def test_each_item_is_checked_like_its_single_route(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world, http = sqlite_world, sqlite_http
    registration, identity, learner_id = _registration(world)
    # a registrar token may not post a provider's entry type, even one the registrar signed
    cert = world.registrar.sign("certificate.issued", world.certificate_body(learner_id))
    answer = _post(http, world.registrar, [_item(registration, identity), _item(cert)])
    assert answer.status_code == 403, answer.text
    assert answer.json()["item"] == 1
    # a token does not lend its authority to entries someone else signed
    foreign = world.other_provider.sign("certificate.issued", world.certificate_body(learner_id))
    answer = _post(http, world.provider, [_item(foreign)])
    assert answer.status_code == 403, answer.text
    assert answer.json()["item"] == 0
    # an identity only travels with a learner registration
    answer = _post(
        http, world.registrar, [_item(_credit(world, world.learner.learner_id), identity)]
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["item"] == 0
    # learners and anonymous callers post nothing
    learner = {"Authorization": f"Bearer {world.learner.token}"}
    body = {"entries": [_item(registration, identity)]}
    assert http.post("/v1/batch", json=body, headers=learner).status_code == 403
    assert http.post("/v1/batch", json=body).status_code == 401


def test_a_batch_has_a_documented_size_limit(sqlite_world: World, sqlite_http: TestClient) -> None:
    world, http = sqlite_world, sqlite_http
    registration, identity, _ = _registration(world)
    item = _item(registration, identity)
    answer = _post(http, world.registrar, [item] * (MAX_BATCH_ITEMS + 1))
    assert answer.status_code == 422, answer.text
    assert _post(http, world.registrar, []).status_code == 422
    described = http.get("/openapi.json").json()["components"]["schemas"]["BatchIn"]
    assert described["properties"]["entries"]["maxItems"] == MAX_BATCH_ITEMS


def _through(http: TestClient) -> httpx.MockTransport:
    """An httpx transport that hands each request to the app in process."""

    def handle(request: httpx.Request) -> httpx.Response:
        answer = http.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return httpx.MockTransport(handle)


def test_the_client_submits_a_batch_and_its_retry_appends_nothing(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world, http = sqlite_world, sqlite_http
    registration, identity, learner_id = _registration(world)
    credit = _credit(world, learner_id)
    transport = _through(http)
    with CreditbankClient(
        "http://testserver", token=world.registrar.token, transport=transport
    ) as api:
        receipts = api.submit_batch([(registration, identity), credit])
        assert [r.entry_type for r in receipts] == ["learner.registered", "credit.earned"]
        again = api.submit_batch(
            [
                (
                    registration,
                    {"name": identity.name, "id_number": identity.id_number, "salt": identity.salt},
                ),
                credit,
            ]
        )
        assert [r.index for r in again] == [r.index for r in receipts]
        assert all(r.replayed for r in again)
        with pytest.raises(NotFoundError) as refused:
            api.submit_batch([_credit(world, learner_id), _credit(world, new_learner_id())])
        assert refused.value.item == 1
    with CreditbankClient(
        "http://testserver", token=world.provider.token, transport=transport
    ) as api:
        with pytest.raises(PermissionDenied) as refused:
            api.submit_batch([_credit(world, learner_id)])
        assert refused.value.item == 0
