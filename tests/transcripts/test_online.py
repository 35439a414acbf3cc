"""Current, not just complete: ``--online`` tells "still true now" from "changed since", over real
HTTP, with nothing taken on trust from the server; the public index routes verify on their own."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlmodel import Session
from typer.testing import CliRunner

from creditbank.accounts.completeness import check_index_entry
from creditbank.accounts.currency import check_currency
from creditbank.accounts.transcript import build_transcript, verify_transcript
from creditbank.api.app import create_app
from creditbank.cli import app as cli_app
from creditbank.cli.transcript_online import CHANGED_SINCE, check_online
from creditbank.errors import ProofError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.checkpoint import Checkpoint
from creditbank.ledger.entry import Leaf
from tests.accounts.conftest import WELD_MAPPING, World


@pytest.fixture
def served(sqlite_world: World) -> Iterator[tuple[World, str]]:
    world = sqlite_world
    world.register_mapping(WELD_MAPPING)
    world.register_learner("L-1")
    world.issue("C-1", "L-1")
    world.convert("X-1", "L-1")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(world.bank), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield world, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _bundle(world: World) -> dict:
    with Session(world.bank.engine) as session:
        return build_transcript(session, world.bank.log, "L-1")


def test_an_old_transcript_is_reported_changed_after_a_revocation(served, tmp_path: Path) -> None:
    """Issue 11, attack 2: a transcript taken before a revocation still verified after it."""
    world, url = served
    trusted = [world.bank.log.verifier]
    old = _bundle(world)
    proven = verify_transcript(old, trusted)
    assert not check_online(url, old, proven, trusted).changed
    world.post(world.provider, "certificate.revoked", {"certificate_id": "C-1", "reason": "fraud"})
    assert verify_transcript(old, trusted).complete_as_of == proven.complete_as_of  # true then
    currency = check_online(url, old, proven, trusted)
    assert currency.changed
    assert currency.new_types == {"certificate.revoked": 1, "conversion.reversed": 1}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    args = ["verify-transcript", str(path), "--log-key", trusted[0].vkey, "--online", url]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == CHANGED_SINCE, result.output
    assert "CHANGED since the transcript: 2 new entries" in " ".join(result.output.split())
    fresh = tmp_path / "new.json"
    fresh.write_text(json.dumps(_bundle(world)))
    args[1] = str(fresh)
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert "still current" in result.output and "complete:" in result.output


def test_a_server_hiding_new_entries_is_caught(served) -> None:
    world, url = served
    trusted = [world.bank.log.verifier]
    old = _bundle(world)
    proven = verify_transcript(old, trusted)
    world.credit("CR-9", "L-1", "SSPU", "MA101", "4", 90)
    with httpx.Client(base_url=url) as http:
        now = http.get("/v1/index/learners/L-1", params={"since": proven.index_value.count}).json()
        proof = http.get(
            "/v1/log/proof/consistency",
            params={"first": proven.tree_size, "second": now["tree_size"]},
        ).json()["hashes"]
    assert check_currency(old, proven.index_value, now, proof, trusted).new_types == {
        "credit.earned": 1
    }
    hidden = dict(now, entries=[])
    with pytest.raises(ProofError, match="do not reach"):
        check_currency(old, proven.index_value, hidden, proof, trusted)
    stale = dict(now, value=old["completeness"]["value"])  # claim nothing changed
    with pytest.raises(ProofError):
        check_currency(old, proven.index_value, stale, proof, trusted)


def test_the_public_index_routes_verify_on_their_own(served) -> None:
    world, url = served
    trusted = [world.bank.log.verifier]
    first_size = world.bank.log.size()
    world.register_learner("L-2")
    with httpx.Client(base_url=url) as http:
        latest = http.get("/v1/index/latest").json()
        then = http.get("/v1/index/learners/L-2", params={"tree_size": first_size}).json()
        now = http.get("/v1/index/learners/L-2").json()
        assert http.get("/v1/index/learners/L-2", params={"tree_size": 10**9}).status_code == 404
        assert http.get("/v1/log/checkpoint/cosigned").status_code == 404
    checkpoint = Checkpoint.open(latest["checkpoint"], trusted)
    assert checkpoint.size == latest["tree_size"] == now["tree_size"]
    for doc, present in ((then, False), (now, True)):
        entry = doc["index_entry"]
        leaf = Leaf.from_bytes(canonical_bytes(entry["leaf"]))
        proven = check_index_entry(entry["index"], leaf, "L-2", doc)
        assert (proven.value is not None) is present
