"""A registrar finds a learner by name or ID number on the page; no one else can (real HTTP)."""

from __future__ import annotations

import httpx
from sqlmodel import Session

from creditbank.accounts.admin_audit import audit_events
from creditbank.accounts.identity_vault import open_identity
from tests.web.conftest import LiveDemo
from tests.web.conftest import signed_in_http as _signed_in


def _searches(live: LiveDemo) -> list[tuple[str, str, str]]:
    with Session(live.bank.engine) as session:
        events = audit_events(session, limit=10_000)
    return [(e.by, e.subject, e.detail) for e in events if e.action == "learner.searched"]


def test_a_registrar_finds_a_learner_by_name_and_by_id_number_and_it_is_audited(
    live: LiveDemo,
) -> None:
    registrar, learner = live.setup.registrars[0], live.setup.learners[0]
    with Session(live.bank.engine) as session:
        identity = open_identity(session, learner.learner_id)
    before = len(_searches(live))
    with _signed_in(live, registrar.token) as (client, csrf):
        assert 'action="/registrar/find"' in client.get("/registrar").text
        for by, query in (("name", identity.name), ("id_number", identity.id_number)):
            answer = client.post(
                "/registrar/find", data={"by": by, "query": query, "csrf_token": csrf}
            )
            assert answer.status_code == 200
            assert f'data-learner="{learner.learner_id}"' in answer.text
            assert identity.id_number not in answer.text  # shown masked
        refused = client.post(
            "/registrar/find", data={"by": "name", "query": " ", "csrf_token": csrf}
        )
        assert refused.status_code == 422
        forged = client.post("/registrar/find", data={"by": "name", "query": "x"})
        assert forged.status_code == 403
    rows = _searches(live)[before:]
    assert [(by, subject) for by, subject, _ in rows] == [
        (registrar.actor_id, "search by name"),
        (registrar.actor_id, "search by id number"),
    ]
    for _by, subject, detail in rows:
        assert learner.learner_id in detail
        assert identity.name not in subject + detail and identity.id_number not in detail


def test_learners_and_providers_cannot_search(live: LiveDemo) -> None:
    before = len(_searches(live))
    learner = live.setup.learners[0]
    with Session(live.bank.engine) as session:
        identity = open_identity(session, live.setup.learners[1].learner_id)
    for token in (learner.token, live.setup.providers[0].token, live.setup.admin.token):
        with _signed_in(live, token) as (client, csrf):
            answer = client.post(
                "/registrar/find", data={"by": "name", "query": identity.name, "csrf_token": csrf}
            )
            assert answer.status_code == 404
            assert identity.name not in answer.text
    anonymous = httpx.post(f"{live.url}/registrar/find", data={"by": "name", "query": "x"})
    assert anonymous.status_code == 404
    assert len(_searches(live)) == before
