"""Issue 9 findings on the write path, each reproduced over HTTP as the review sent it."""

from __future__ import annotations

import asyncio
import csv
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from creditbank.accounts.kinds import REASON_CODES
from creditbank.accounts.wiring import shipped_data_dir
from creditbank.api.app import create_app
from creditbank.cli import app as cli_app
from creditbank.client import CreditbankClient
from creditbank.client.mapping_import import import_mappings
from creditbank.errors import PermissionDenied
from creditbank.ledger.keys import load_private_key
from creditbank.mapping import Mapping
from tests.api.world import World, unique


def _post(http: TestClient, token: str, path: str, body: Any) -> httpx.Response:
    return http.post(path, json=body, headers={"Authorization": f"Bearer {token}"})


def _problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    return problem


# --- item 2: ranges ------------------------------------------------------------------------------


def test_issue9_item2_a_mapping_valid_for_9000_years_is_refused(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world = sqlite_world
    mapping = world.new_mapping_json()
    mapping["valid_years"] = 9000
    answer = _post(
        sqlite_http,
        world.provider.token,
        "/v1/mappings",
        world.provider.post_json("mapping.registered", {"mapping": mapping}),
    )
    assert "valid_years" in _problem(answer, 422)["detail"]
    # and the learners holding that trade still read their accounts
    learner = world.learner.learner_id
    for path in ("expiring?days=365", f"plan?programme_code={world.recognition.programme_code}"):
        read = sqlite_http.get(
            f"/v1/learners/{learner}/{path}", headers=world.bearer(world.learner.token)
        )
        assert read.status_code == 200, read.text


def test_issue9_item2_a_what_if_certificate_of_9999_is_a_422(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world = sqlite_world
    requirement = world.recognition.qualification_requirements[0]
    answer = _post(
        sqlite_http,
        world.learner.token,
        f"/v1/learners/{world.learner.learner_id}/plan",
        {
            "programme_code": world.recognition.programme_code,
            "what_if": {
                "certificates": [
                    {
                        "holding_id": "w-1",
                        "qualification_code": requirement.code,
                        "level": requirement.min_level,
                        "issued_on": "9999-12-31",
                        "what_if": True,
                    }
                ]
            },
        },
    )
    assert "issued_on" in _problem(answer, 422)["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("issued_on", "9999-12-31"), ("issued_on", "0001-01-01"), ("level", 9), ("level", 0)],
)
def test_issue9_item2_every_body_field_has_a_range(
    sqlite_world: World, sqlite_http: TestClient, field: str, value: Any
) -> None:
    world = sqlite_world
    body = world.certificate_body(world.learner.learner_id)
    body[field] = value
    answer = _post(
        sqlite_http,
        world.provider.token,
        "/v1/certificates",
        world.provider.post_json("certificate.issued", body),
    )
    assert field in _problem(answer, 422)["detail"]


# --- item 4: one bad write fails only itself -----------------------------------------------------


async def _burst(world: World, jobs: list[tuple[str, str, dict[str, Any]]]) -> list[int]:
    app = create_app(world.bank)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answers = await asyncio.gather(
                *(http.post(path, json=body, headers=world.bearer(tok)) for tok, path, body in jobs)
            )
    return [answer.status_code for answer in answers]


@pytest.mark.parametrize("public_key", ["=" * 44, "!" * 44, "A" * 43 + "B"])
def test_issue9_item4_a_malformed_key_beside_six_certificates(
    sqlite_world: World, public_key: str
) -> None:
    world = sqlite_world
    actor = {
        "actor_id": unique("prov"),
        "role": "provider",
        "name": "bad key provider",
        "public_key": public_key,
    }
    jobs = [(world.admin.token, "/v1/actors", world.admin.post_json("actor.registered", actor))]
    for _ in range(6):
        body = world.certificate_body(world.learner.learner_id)
        jobs.append(
            (
                world.provider.token,
                "/v1/certificates",
                world.provider.post_json("certificate.issued", body),
            )
        )
    statuses = asyncio.run(_burst(world, jobs))
    assert statuses == [422] + [201] * 6


# --- item 5: one reading of the signed bytes -----------------------------------------------------


def test_issue9_item5_duplicate_keys_are_refused_by_the_api(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world = sqlite_world
    body = world.certificate_body(world.learner.learner_id)
    signed = world.provider.post_json("certificate.issued", body)
    raw = httpx.Request("POST", "http://x", json=signed).content.decode()
    doubled = raw.replace('"level":', '"level":1,"level":', 1)
    assert doubled != raw
    answer = sqlite_http.post(
        "/v1/certificates",
        content=doubled.encode(),
        headers={**world.bearer(world.provider.token), "Content-Type": "application/json"},
    )
    assert "level" in _problem(answer, 422)["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("level", "3"), ("level", True), ("credits", "1\u0660"), ("credits", "1\uff10")],
)
def test_issue9_item5_bodies_are_strictly_typed(
    sqlite_world: World, sqlite_http: TestClient, field: str, value: Any
) -> None:
    world = sqlite_world
    if field == "level":
        path, entry_type, actor = "/v1/certificates", "certificate.issued", world.provider
        body = world.certificate_body(world.learner.learner_id)
    else:
        path, entry_type, actor = "/v1/credits", "credit.earned", world.registrar
        body = {
            "credit_id": unique("CR"),
            "learner_id": world.learner.learner_id,
            "institution": "SSPU",
            "course_code": "ME1021",
            "credits": "2",
            "grade": 80,
            "earned_on": world.today.isoformat(),
        }
    body[field] = value
    answer = _post(sqlite_http, actor.token, path, actor.post_json(entry_type, body))
    assert field in _problem(answer, 422)["detail"]


# --- item 8: no free text on the log -------------------------------------------------------------


def test_issue9_item8_a_revocation_reason_is_a_code_not_free_text(
    sqlite_world: World, sqlite_http: TestClient
) -> None:
    world = sqlite_world
    certificate = world.new_certificate(world.learner.learner_id)
    path = f"/v1/certificates/{certificate}/revoke"
    personal = {"certificate_id": certificate, "reason": "王小明 310101199001011234"}
    answer = _post(
        sqlite_http,
        world.provider.token,
        path,
        world.provider.post_json("certificate.revoked", personal),
    )
    assert "reason" in _problem(answer, 422)["detail"]
    coded = {"certificate_id": certificate, "reason": "wrong-learner"}
    answer = _post(
        sqlite_http,
        world.provider.token,
        path,
        world.provider.post_json("certificate.revoked", coded),
    )
    assert answer.status_code == 201, answer.text
    for code, (zh, en) in REASON_CODES.items():
        assert code.isascii() and zh and en and not zh.isascii()


# --- item 16: import-map through the API ---------------------------------------------------------


@pytest.fixture(scope="module")
def served(sqlite_world: World) -> Iterator[str]:
    """The world's API on a real loopback port (uvicorn in a thread of this process)."""
    server = uvicorn.Server(
        uvicorn.Config(create_app(sqlite_world.bank), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def _new_rows_of(world: World, folder: Path) -> tuple[Path, int]:
    """A map CSV with new versions of the provider's rows (fresh mapping ids)."""
    source = shipped_data_dir() / "qualification_map.csv"
    with source.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    mine = [r for r in rows if r["provider"] == world.provider.name]
    tag = unique("IMP")
    for row in mine:
        row["mapping_id"] = f"{tag}-{row['mapping_id']}"[:64]
    target = folder / "map.csv"
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(mine)
    return target, len({(r["mapping_id"], r["version"]) for r in mine})


def _provider_key(world: World) -> Path:
    return next(
        p.private_key_path for p in world.setup.providers if p.actor_id == world.provider.actor_id
    )


def test_issue9_item16_import_map_posts_one_batch_without_the_log_key(
    sqlite_world: World, served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = sqlite_world
    map_csv, count = _new_rows_of(world, tmp_path)
    for name in ("CREDITBANK_LOG_KEY_FILE", "CREDITBANK_ORIGIN", "CREDITBANK_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no log key file to stumble on
    args = [
        "import-map",
        str(map_csv),
        "--provider",
        world.provider.name,
        "--key",
        str(_provider_key(world)),
        "--url",
        served,
        "--token",
        world.provider.token,
    ]
    before = world.bank.log.size()
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert f"registered {count} mappings" in " ".join(result.output.split())
    assert world.bank.log.size() == before + count
    tree_sizes = {world.bank.log.leaf(i).integrated_at for i in range(before, before + count)}
    assert len(tree_sizes) == 1  # one append: one batch
    again = CliRunner().invoke(cli_app, args)
    assert again.exit_code == 0, again.output
    assert f"{count} were already registered" in " ".join(again.output.split())
    assert world.bank.log.size() == before + count


def test_issue9_item16_an_import_is_all_or_nothing(sqlite_world: World, served: str) -> None:
    world = sqlite_world
    key = load_private_key(_provider_key(world), passphrase=None)
    own = Mapping.from_json(world.new_mapping_json(world.provider))
    foreign = Mapping.from_json(world.new_mapping_json(world.other_provider))
    before = world.bank.log.size()
    with CreditbankClient.signing(served, token=world.provider.token, private_key=key) as api:
        with pytest.raises(PermissionDenied) as refused:
            import_mappings(api, [own, foreign], {world.provider.name, world.other_provider.name})
    assert refused.value.item == 1
    assert world.bank.log.size() == before
