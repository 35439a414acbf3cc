"""Issue 9 item 12: token issue and revoke leave an append-only trace that admins can read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from .world import World


def test_issue9_item12_token_issue_and_revoke_are_in_the_admin_audit(
    world: World, http: TestClient
) -> None:
    admin = world.bearer(world.admin.token)
    learner = world.new_learner()
    issued = http.post("/v1/tokens", json={"learner_id": learner.learner_id}, headers=admin)
    assert issued.status_code == 201, issued.text
    token_id = issued.json()["token_id"]
    by_registrar = http.post(
        "/v1/tokens",
        json={"learner_id": learner.learner_id},
        headers=world.bearer(world.registrar.token),
    )
    assert by_registrar.status_code == 201
    assert http.delete(f"/v1/tokens/{token_id}", headers=admin).status_code == 204

    trail = http.get("/v1/admin/audit", params={"limit": 1000}, headers=admin)
    assert trail.status_code == 200, trail.text
    events = [e for e in trail.json() if token_id in e["subject"]] + [
        e for e in trail.json() if e["subject"] == by_registrar.json()["token_id"]
    ]
    assert [(e["action"], e["by"], e["role"]) for e in events] == [
        ("token.issued", world.admin.actor_id, "admin"),
        ("token.revoked", world.admin.actor_id, "admin"),
        ("token.issued", world.registrar.actor_id, "registrar"),
    ]
    assert learner.learner_id in events[0]["detail"]
    assert issued.json()["token"] not in trail.text  # the trace names tokens by hash only
    for caller in (world.registrar.token, learner.token):
        assert http.get("/v1/admin/audit", headers=world.bearer(caller)).status_code == 403


def test_issue9_item12_the_audit_table_is_append_only(world: World) -> None:
    world.bank.issue_token(learner_id=world.new_learner().learner_id)  # a row may exist or not
    with world.bank.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_audit (at, by, role, action, subject, detail) "
                "VALUES ('2026-01-01T00:00:00.000000Z', 'x', 'admin', 'token.issued', 's', '')"
            )
        )
    for statement in ("UPDATE admin_audit SET by = 'someone else'", "DELETE FROM admin_audit"):
        with pytest.raises(DatabaseError, match="append-only"):
            with world.bank.engine.begin() as conn:
                conn.execute(text(statement))
