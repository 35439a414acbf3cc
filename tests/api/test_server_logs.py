"""Issue 9 item 11: one structured log line per error, no personal data, no Host-built redirects."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.api.app import create_app

from .conftest import _engine
from .world import World, open_world

NAME = "欧阳日志"
ID_NUMBER = "310101197707077777"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, TestClient]]:
    """A world of its own, whose identity table is then broken behind the code's back."""
    tmp: Path = tmp_path_factory.mktemp("world-logs")
    for engine in _engine("sqlite", tmp):
        world = open_world(engine, tmp)
        with TestClient(create_app(world.bank), raise_server_exceptions=False) as client:
            yield world, client


def test_issue9_item11_a_500_writes_one_line_with_the_correlation_id_and_no_personal_data(
    broken: tuple[World, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    world, client = broken
    with world.bank.engine.begin() as conn:  # the database fails under the code
        conn.execute(text("ALTER TABLE learner_data_keys RENAME TO learner_data_keys_gone"))
    identity = Identity(name=NAME, id_number=ID_NUMBER, salt=new_salt())
    learner_id = new_learner_id()
    signed = world.registrar.sign(
        "learner.registered", {"learner_id": learner_id, "commitment": commitment_of(identity)}
    )
    body = {
        **signed.to_json(),
        "identity": {"name": NAME, "id_number": ID_NUMBER, "salt": identity.salt},
    }
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/v1/learners", json=body, headers=world.bearer(world.registrar.token))
    assert answer.status_code >= 500, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    correlation_id = problem["correlation_id"]
    assert NAME not in answer.text and ID_NUMBER not in answer.text
    logged = "\n".join(
        record.getMessage() + (record.exc_text or "") + str(record.exc_info or "")
        for record in caplog.records
    )
    assert NAME not in logged and ID_NUMBER not in logged and identity.salt not in logged
    assert world.registrar.token not in logged
    assert "Traceback" not in logged
    lines = [r.getMessage() for r in caplog.records if correlation_id in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in caplog.records]
    record = json.loads(lines[0])
    assert record["status"] == answer.status_code and record["route"] == "/v1/learners"
    assert all(r.exc_info is None for r in caplog.records if r.levelno >= logging.ERROR)
    with world.bank.engine.begin() as conn:
        conn.execute(text("ALTER TABLE learner_data_keys_gone RENAME TO learner_data_keys"))


def test_issue9_item11_client_errors_carry_a_correlation_id_too(
    broken: tuple[World, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    _world, client = broken
    with caplog.at_level(logging.INFO, logger="creditbank.api"):
        answer = client.get("/v1/learners/L-0000000000000000/balance")
    assert answer.status_code == 401
    correlation_id = answer.json()["correlation_id"]
    assert [r for r in caplog.records if correlation_id in r.getMessage()]


def test_issue9_item11_no_redirect_built_from_the_host_header(
    broken: tuple[World, TestClient],
) -> None:
    _world, client = broken
    answer = client.get(
        "/v1/catalogue/programmes/", headers={"Host": "evil.example"}, follow_redirects=False
    )
    assert "evil.example" not in answer.headers.get("location", "")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
