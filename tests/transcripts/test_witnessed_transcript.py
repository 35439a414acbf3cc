"""Transcripts carry the cosigned checkpoint; ``--witness`` requires the cosignatures."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.transcript import verify_transcript
from creditbank.errors import CheckpointError
from creditbank.ledger.cosignature import Cosigner, add_signature_lines
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.witness.core import Witness, render_add_checkpoint
from creditbank.witness.state import WitnessState
from tests.accounts.conftest import ORIGIN, World


def test_a_transcript_requires_the_witnesses_asked_for(sqlite_world: World, tmp_path: Path) -> None:
    world = sqlite_world
    world.register_learner("L-1")
    log = world.bank.log
    witnesses = [
        Witness(
            Cosigner(f"witness.test/w{i}", Ed25519PrivateKey.generate()),
            {ORIGIN: [log.verifier]},
            WitnessState(tmp_path / f"w{i}.sqlite"),
        )
        for i in (1, 2)
    ]
    latest = log.latest_checkpoint()
    lines = [
        w.add_checkpoint(render_add_checkpoint(0, [], latest.note), now=1_760_000_000)
        for w in witnesses
    ]
    CosignedStore(world.bank.engine).save(
        latest.tree_size, add_signature_lines(latest.note, lines), len(lines)
    )
    world.credit("CR-1", "L-1", "SSPU", "MA101", "4", 88)  # the log moves on past the cosigned size
    bundle = world.bank.transcript("L-1")
    assert bundle["witnessed"]["checkpoint"] != bundle["checkpoint"]
    keys = [w.cosigner.verifier for w in witnesses]
    proven = verify_transcript(bundle, [log.verifier], witnesses=keys, threshold=2)
    assert proven.witnessed_by == ["witness.test/w1", "witness.test/w2"]
    assert proven.complete_as_of is not None
    stranger = Cosigner("witness.test/w9", Ed25519PrivateKey.generate()).verifier
    with pytest.raises(CheckpointError, match="2 required"):
        verify_transcript(bundle, [log.verifier], witnesses=[keys[0], stranger], threshold=2)
    stripped = {k: v for k, v in bundle.items() if k != "witnessed"}
    with pytest.raises(CheckpointError, match="no witness-cosigned checkpoint"):
        verify_transcript(stripped, [log.verifier], witnesses=keys)
    for w in witnesses:
        w.state.close()
