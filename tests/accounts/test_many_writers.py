"""Eight processes, one tree: concurrent writers on one database never fork or lose the log."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Engine
from sqlmodel import Session

from creditbank.accounts.authority import audit_authority
from creditbank.accounts.replay import rebuild, snapshot
from creditbank.ledger.audit import audit_log
from creditbank.ledger.merkle_verify import verify_consistency

from .conftest import ORIGIN, World
from .writer_process import append_certificates

WRITERS = 8
PER_WRITER = 40


def _raw(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


@pytest.mark.slow
def test_eight_processes_append_to_one_tree(
    world: World, engine: Engine, request: pytest.FixtureRequest
) -> None:
    world.register_learner("L-1")
    start = world.bank.log.size()
    url = engine.url.render_as_string(hide_password=False)
    schema = None
    if engine.dialect.name == "postgresql":
        schema = request.getfixturevalue("pg_schema")[1]
    signer = world.bank.log.signer
    assert signer is not None
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WRITERS, mp_context=context) as pool:
        futures = [
            pool.submit(
                append_certificates,
                url,
                schema,
                ORIGIN,
                _raw(signer.private_key),
                _raw(world.provider.key),
                "L-1",
                worker,
                PER_WRITER,
            )
            for worker in range(WRITERS)
        ]
        indices = [i for f in futures for i in f.result()]

    total = WRITERS * PER_WRITER
    log = world.bank.log
    # None lost, none twice; between them, the learner index entry each append adds (h5).
    index_entries = [
        i for i, leaf in log.leaves(start, log.size()) if leaf.entry.type == "ledger.learner_index"
    ]
    assert len(index_entries) == total
    assert sorted(indices + index_entries) == list(range(start, log.size()))
    checkpoints = list(log.store.checkpoints())
    latest = checkpoints[-1]
    assert latest.tree_size == log.size()
    for older, newer in [*pairwise(checkpoints), *((c, latest) for c in checkpoints)]:
        proof = log.consistency_proof(older.tree_size, newer.tree_size)
        verify_consistency(
            older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof
        )
    audit_log(log.store, origin=ORIGIN, workers=2)
    audit_authority(log.store)
    assert len(world.bank.balance("L-1").certificates) == total
    with Session(world.bank.engine) as session:
        live = snapshot(session)
    rebuild(log.store)  # type: ignore[arg-type]
    with Session(world.bank.engine) as session:
        assert snapshot(session) == live
