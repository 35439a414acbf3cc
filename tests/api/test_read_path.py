"""The balance read path (issue 10): the principal is looked up on every request, never cached.

The token lookup and the balance query run on the event loop, without the ORM. A revoked token
must be refused from the very next request, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from creditbank.accounts.tokens import hash_token

from .world import World


def test_revoking_a_token_refuses_the_next_read(world: World, http: TestClient) -> None:
    learner = world.new_learner()
    balance = f"/v1/learners/{learner.learner_id}/balance"
    reader = world.bearer(learner.token)
    first = http.get(balance, headers=reader)
    assert first.status_code == 200, first.text
    assert first.json()["learner_id"] == learner.learner_id
    assert http.get(balance, headers=reader).status_code == 200  # a second read: same answer

    revoked = http.delete(
        f"/v1/tokens/{hash_token(learner.token)}", headers=world.bearer(world.admin.token)
    )
    assert revoked.status_code == 204, revoked.text

    after = http.get(balance, headers=reader)
    assert after.status_code == 401, after.text
    assert after.headers["content-type"].startswith("application/problem+json")
    assert http.get("/v1/whoami", headers=reader).status_code == 401
    # The learner's account is still readable by a registrar: only the token was revoked.
    by_registrar = http.get(balance, headers=world.bearer(world.registrar.token))
    assert by_registrar.status_code == 200, by_registrar.text


def test_balance_refuses_before_it_reads(world: World, http: TestClient) -> None:
    """The checks of the read path, in order: a token (401), then whose account (404, as unknown)."""
    learner, other = world.new_learner(), world.new_learner()
    balance = f"/v1/learners/{learner.learner_id}/balance"
    assert http.get(balance).status_code == 401
    assert http.get(balance, headers={"Authorization": "Basic eDp5"}).status_code == 401
    assert http.get(balance, headers=world.bearer("cbt_not-a-token")).status_code == 401
    assert http.get(balance, headers=world.bearer(other.token)).status_code == 404
    unknown = http.get("/v1/learners/no-such-learner/balance", headers=world.bearer(other.token))
    assert unknown.status_code == 404
    assert http.get(balance, headers=world.bearer(world.provider.token)).status_code == 403
