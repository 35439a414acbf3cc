"""The server submits each new checkpoint to its configured witnesses in the background (issue 11,
item 5): two real witness servers on loopback, one of them down for a while and one that already
saw a later size than the submitter knows."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from creditbank.api.app import create_app
from creditbank.api.config import ApiConfig
from creditbank.ledger.checkpoint import Checkpoint
from creditbank.ledger.cosignature import Cosigner, CosignerVerifier, verify_cosignatures
from creditbank.witness.core import Witness
from creditbank.witness.state import WitnessState
from tests.accounts.conftest import ORIGIN, World, make_world
from tests.witness.test_witness import Served, free_port


def _witness(world: World, tmp_path: Path, name: str) -> Witness:
    return Witness(
        Cosigner(f"witness.test/{name}", Ed25519PrivateKey.generate()),
        {ORIGIN: [world.bank.log.verifier]},
        WitnessState(tmp_path / f"{name}.sqlite"),
    )


def _until(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the witnesses")
        time.sleep(0.05)


def _cosigned(
    http: TestClient, world: World, keys: list[CosignerVerifier]
) -> Callable[[int, int], bool]:
    """Whether the server serves a checkpoint of ``size`` cosigned by ``threshold`` witnesses."""

    def check(size: int, threshold: int) -> bool:
        answer = http.get("/v1/log/checkpoint/cosigned")
        if answer.status_code != 200:
            return False
        if Checkpoint.open(answer.text, [world.bank.log.verifier]).size != size:
            return False
        return len(verify_cosignatures(answer.text, keys, threshold=1)) >= threshold

    return check


@pytest.fixture
def sqlite_world(sqlite_engine: Engine) -> Iterator[World]:
    yield from make_world(sqlite_engine)


@pytest.fixture
def two(sqlite_world: World, tmp_path: Path) -> Iterator[tuple[Witness, Witness]]:
    made = (_witness(sqlite_world, tmp_path, "w1"), _witness(sqlite_world, tmp_path, "w2"))
    yield made
    for witness in made:
        witness.state.close()


def test_each_new_checkpoint_is_cosigned_in_the_background(
    sqlite_world: World, two: tuple[Witness, Witness]
) -> None:
    world = sqlite_world
    w1, w2 = two
    first = Served(w1)
    # w2 is down at first: appends go on, w1 cosigns alone, w2 is retried until it is up.
    port = free_port()
    url2 = f"http://127.0.0.1:{port}"
    config = ApiConfig(
        witnesses=(
            f"{first.url}={w1.cosigner.verifier.vkey}",
            f"{url2}={w2.cosigner.verifier.vkey}",
        ),
        witness_poll_seconds=0.05,
        witness_retry_seconds=0.05,
    )
    keys = [w1.cosigner.verifier, w2.cosigner.verifier]
    second = None
    try:
        with TestClient(create_app(world.bank, config=config)) as http:
            cosigned = _cosigned(http, world, keys)
            started = time.monotonic()
            world.register_learner("L-1")
            # An append never waits for a witness (generous bound: the shared CI box may be slow).
            assert time.monotonic() - started < 10
            _until(lambda: cosigned(world.bank.log.size(), 1))
            second = Served(w2, port=port)
            _until(lambda: cosigned(world.bank.log.size(), 2))
            world.issue("C-1", "L-1")
            _until(lambda: cosigned(world.bank.log.size(), 2))
            size = world.bank.log.size()
            # The transcript carries the cosigned checkpoint.
            token = world.bank.issue_token(learner_id="L-1", label="t", by=None)
            auth = {"Authorization": f"Bearer {token}"}
            bundle = http.get("/v1/learners/L-1/transcript", headers=auth).json()
            witnessed = bundle["witnessed"]["checkpoint"]
            assert Checkpoint.open(witnessed, [world.bank.log.verifier]).size == size
            assert len(verify_cosignatures(witnessed, keys, threshold=2)) == 2
        # A restarted server knows no witness sizes: each answers 409 with its size, and the
        # submitter resends from there.
        world.credit("CR-1", "L-1", "SSPU", "MA101", "4", 88)
        with TestClient(create_app(world.bank, config=config)) as http:
            cosigned = _cosigned(http, world, keys)
            _until(lambda: cosigned(world.bank.log.size(), 2))
    finally:
        first.stop()
        if second is not None:
            second.stop()
    for witness in two:
        state = witness.state.latest(ORIGIN)
        assert state is not None and state.tree_size == world.bank.log.size()
