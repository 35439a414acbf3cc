"""Witnesses over real HTTP: two witnesses cosign, a forked or rolled-back log is refused."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.errors import CheckpointError, SignatureError
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner
from creditbank.ledger.cosignature import (
    Cosigner,
    CosignerVerifier,
    add_signature_lines,
    verify_cosignatures,
)
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.ledger.entry import Entry, sign_entry
from creditbank.ledger.log import Log
from creditbank.ledger.memory import MemoryLogStore
from creditbank.witness.core import Witness, render_add_checkpoint
from creditbank.witness.server import create_witness_app
from creditbank.witness.state import WitnessState
from creditbank.witness.submit import WitnessEndpoint, cosign_latest

ORIGIN = "creditbank.test/witnessed"
NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    def __init__(self, witness: Witness, port: int | None = None) -> None:
        port = port or free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_witness_app(witness), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("witness did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _log(signer: NoteSigner, entries: int, *, tag: str = "a") -> Log:
    log = Log(MemoryLogStore(), origin=ORIGIN, signer=signer)
    _extend(log, entries, tag=tag)
    return log


def _extend(log: Log, entries: int, *, tag: str = "a") -> None:
    key = Ed25519PrivateKey.generate()
    start = log.size()
    signed = [
        sign_entry(
            Entry.create(
                type="test.entry",
                actor="tester",
                nonce=f"{tag}-nonce-{start + i:06d}",
                body={"n": start + i, "tag": tag},
                claimed_at=NOW,
            ),
            key,
        )
        for i in range(entries)
    ]
    log.append(signed, now=NOW)


@pytest.fixture
def log_signer() -> NoteSigner:
    return NoteSigner(ORIGIN, Ed25519PrivateKey.generate())


@pytest.fixture
def witnesses(tmp_path: Path, log_signer: NoteSigner) -> Iterator[list[tuple[Witness, Served]]]:
    made = []
    for name in ("w1", "w2"):
        witness = Witness(
            Cosigner(f"witness.test/{name}", Ed25519PrivateKey.generate()),
            {ORIGIN: [log_signer.verifier]},
            WitnessState(tmp_path / f"{name}.sqlite"),
        )
        made.append((witness, Served(witness)))
    yield made
    for witness, served in made:
        served.stop()
        witness.state.close()


def _endpoints(witnesses: list[tuple[Witness, Served]]) -> list[WitnessEndpoint]:
    return [WitnessEndpoint(s.url, w.cosigner.verifier) for w, s in witnesses]


def test_two_witnesses_cosign_each_new_checkpoint(witnesses, log_signer) -> None:
    log = _log(log_signer, 5)
    endpoints = _endpoints(witnesses)
    keys = [e.verifier for e in endpoints]
    with httpx.Client(timeout=10) as http:
        note, outcomes = cosign_latest(log, endpoints, http)
        assert all(o.ok for o in outcomes), outcomes
        assert len(verify_cosignatures(note, keys, threshold=2)) == 2
        Checkpoint.open(note, [log_signer.verifier], origin=ORIGIN)  # still a valid log note
        _extend(log, 3)
        note, outcomes = cosign_latest(log, endpoints, http)
        assert all(o.ok for o in outcomes), outcomes
        assert Checkpoint.from_text(note.split("\n\n")[0] + "\n").size == 8
        verify_cosignatures(note, keys, threshold=2)
        # A log that forgot what the witnesses saw starts from 0, gets 409 with the size, retries.
        _extend(log, 2)
        fresh = [WitnessEndpoint(e.url, e.verifier) for e in endpoints]
        note, outcomes = cosign_latest(log, fresh, http)
        assert all(o.ok for o in outcomes), outcomes
    for witness, _ in witnesses:
        state = witness.state.latest(ORIGIN)
        assert state is not None and state.tree_size == 10


def test_a_forked_log_is_refused_by_a_witness_that_saw_the_other(witnesses, log_signer) -> None:
    honest = _log(log_signer, 5, tag="honest")
    fork = _log(log_signer, 5, tag="forked")  # same key, same size, another history
    assert honest.root() != fork.root()
    (w1, s1), (w2, s2) = witnesses
    with httpx.Client(timeout=10) as http:
        _, outcomes = cosign_latest(honest, [WitnessEndpoint(s1.url, w1.cosigner.verifier)], http)
        assert outcomes[0].ok
        # Same size, other root: refused (409), recorded as evidence.
        answer = http.post(
            s1.url + "/add-checkpoint",
            content=render_add_checkpoint(5, [], fork.latest_checkpoint().note),
        )
        assert answer.status_code == 409
        assert answer.headers["content-type"].startswith("text/x.tlog.size")
        assert answer.text == "5\n"
        assert w1.state.evidence(ORIGIN)[0][0].startswith("fork")
        # The fork grows: its consistency proof from 5 cannot match the root w1 cosigned.
        _extend(fork, 2, tag="forked")
        answer = http.post(
            s1.url + "/add-checkpoint",
            content=render_add_checkpoint(
                5, fork.consistency_proof(5, 7), fork.latest_checkpoint().note
            ),
        )
        assert answer.status_code == 422
        _, outcomes = cosign_latest(fork, [WitnessEndpoint(s1.url, w1.cosigner.verifier)], http)
        assert not outcomes[0].ok
        # A witness that never saw the honest log cosigns the fork: a client that requires both
        # witnesses (threshold 2) can never accept either branch.
        note, outcomes = cosign_latest(fork, [WitnessEndpoint(s2.url, w2.cosigner.verifier)], http)
        assert outcomes[0].ok
        keys = [w1.cosigner.verifier, w2.cosigner.verifier]
        with pytest.raises(CheckpointError):
            verify_cosignatures(note, keys, threshold=2)
    assert w1.state.latest(ORIGIN).tree_size == 5  # type: ignore[union-attr]


def test_rollback_unknown_log_bad_signature_and_malformed_requests(witnesses, log_signer) -> None:
    log = _log(log_signer, 6)
    (w1, s1), _ = witnesses
    with httpx.Client(timeout=10) as http:
        assert cosign_latest(log, [WitnessEndpoint(s1.url, w1.cosigner.verifier)], http)[1][0].ok
        old = Checkpoint(ORIGIN, 3, log.root(3)).sign([log_signer])
        answer = http.post(s1.url + "/add-checkpoint", content=render_add_checkpoint(6, [], old))
        assert answer.status_code == 400  # old size above the checkpoint: going back
        answer = http.post(s1.url + "/add-checkpoint", content=render_add_checkpoint(0, [], old))
        assert answer.status_code == 409 and answer.text == "6\n"
        stranger = NoteSigner("other.test/log", Ed25519PrivateKey.generate())
        note = Checkpoint("other.test/log", 1, bytes(32)).sign([stranger])
        assert (
            http.post(
                s1.url + "/add-checkpoint", content=render_add_checkpoint(0, [], note)
            ).status_code
            == 404
        )
        impostor = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
        note = Checkpoint(ORIGIN, 9, bytes(32)).sign([impostor])
        assert (
            http.post(
                s1.url + "/add-checkpoint", content=render_add_checkpoint(6, [], note)
            ).status_code
            == 403
        )
        assert http.post(s1.url + "/add-checkpoint", content=b"olde 1\n\nx").status_code == 400
    assert w1.state.latest(ORIGIN).tree_size == 6  # type: ignore[union-attr]


def test_state_survives_a_restart(tmp_path: Path, log_signer) -> None:
    cosigner = Cosigner("witness.test/durable", Ed25519PrivateKey.generate())
    log = _log(log_signer, 4)
    state = WitnessState(tmp_path / "w.sqlite")
    Witness(cosigner, {ORIGIN: [log_signer.verifier]}, state).add_checkpoint(
        render_add_checkpoint(0, [], log.latest_checkpoint().note), now=1
    )
    state.close()
    reopened = WitnessState(tmp_path / "w.sqlite")
    assert reopened.latest(ORIGIN).tree_size == 4  # type: ignore[union-attr]
    reopened.close()


def test_cosignature_lines_are_checked_and_tampering_fails(log_signer) -> None:
    cosigner = Cosigner("witness.test/w9", Ed25519PrivateKey.generate())
    verifier = CosignerVerifier.from_vkey(cosigner.verifier.vkey)
    note = Checkpoint(ORIGIN, 7, bytes(range(32))).sign([log_signer])
    text = note.split("\n\n")[0] + "\n"
    cosigned = add_signature_lines(note, [cosigner.signature_line(text, 1_700_000_000)])
    (found,) = verify_cosignatures(cosigned, [verifier], threshold=1)
    assert found.timestamp == 1_700_000_000
    tampered = cosigned.replace("\n7\n", "\n8\n", 1)
    with pytest.raises(SignatureError):
        verify_cosignatures(tampered, [verifier])
    with pytest.raises(CheckpointError):
        verify_cosignatures(note, [verifier], threshold=1)


def test_cosigned_store_keeps_the_latest(tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from creditbank.ledger.cosigned_store import cosigned_table

    engine = create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    cosigned_table.create(engine)
    store = CosignedStore(engine)
    store.save(3, "three\n", 1)
    store.save(5, "five\n", 2)
    assert store.latest() == (5, "five\n")
    engine.dispose()
