"""Key recovery (issue 11, item 7): an admin can give a locked-out actor a new key, but only
visibly, after 7 days of log time, and the actor can veto it until then."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlmodel import Session
from typer.testing import CliRunner

from creditbank.accounts.authority import audit_authority
from creditbank.accounts.readmodel_audit import audit_read_models
from creditbank.accounts.transcript import build_transcript, verify_transcript
from creditbank.cli import app
from creditbank.errors import (
    ConflictError,
    EntryFormatError,
    PermissionDenied,
    ProofError,
    SignatureError,
    TamperError,
)
from creditbank.ledger.entry import key_id_of
from tests.accounts.conftest import ORIGIN, Actor, World


def _recover(world: World, actor_id: str = "prov-1", **extra: Any) -> Actor:
    """An admin recovers ``actor_id`` with a fresh key; returns the actor signing with it."""
    fresh = Actor(actor_id, Ed25519PrivateKey.generate())
    body = {"actor_id": actor_id, "public_key": fresh.public_key, "reason": "keys-lost", **extra}
    world.post(world.admin, "actor.key_recovered", body)
    return fresh


def _cert(cert_id: str) -> dict[str, Any]:
    return {
        "certificate_id": cert_id,
        "learner_id": "L-1",
        "qualification_code": "6-18-02-04",
        "level": 4,
        "issued_on": "2024-01-01",
    }


def test_a_recovered_key_signs_only_after_the_delay_and_is_flagged(world: World) -> None:
    world.register_learner("L-1")
    recovered = _recover(world)
    with pytest.raises(SignatureError, match="may sign only from"):
        world.post(recovered, "certificate.issued", _cert("C-1"))
    # Signed during the veto window, held back, sent once it closed: still refused.
    held = world.sign(recovered, "certificate.issued", _cert("C-1"))
    world.clock.advance(days=7, minutes=-1)
    with pytest.raises(SignatureError, match="may sign only from"):
        world.post(recovered, "certificate.issued", _cert("C-1"))
    world.clock.advance(minutes=2)
    with pytest.raises(SignatureError, match="may sign only from"):
        world.bank.submit(held)
    receipt = world.post(recovered, "certificate.issued", _cert("C-1"))
    report = audit_authority(world.bank.log.store)
    assert [(u.index, u.actor, u.key_id) for u in report.recovered] == [
        (receipt.index, "prov-1", key_id_of(recovered.public_key))
    ]
    with Session(world.bank.engine) as session:
        bundle = build_transcript(session, world.bank.log, "L-1")
    proven = verify_transcript(bundle, [world.bank.log.verifier])
    assert [u["index"] for u in proven.recovered_signatures] == [receipt.index]
    assert bundle["recovered_signatures"] == proven.recovered_signatures
    assert len(proven.certificates) == 1

    # Tamper: hide the flag, or hide the recovery entry that explains the key.
    hidden = copy.deepcopy(bundle)
    hidden["recovered_signatures"] = []
    with pytest.raises(ProofError, match="recovered keys"):
        verify_transcript(hidden, [world.bank.log.verifier])
    unexplained = copy.deepcopy(bundle)
    unexplained["entries"] = [
        e for e in bundle["entries"] if e["leaf"]["entry"]["type"] != "actor.key_recovered"
    ]
    with pytest.raises(SignatureError, match="not shown to belong"):
        verify_transcript(unexplained, [world.bank.log.verifier])
    # Shorten the delay in the recovery's body: its admin signature no longer verifies.
    shortened = copy.deepcopy(bundle)
    for item in shortened["entries"]:
        if item["leaf"]["entry"]["type"] == "actor.key_recovered":
            item["leaf"]["entry"]["body"]["delay_days"] = 1
    with pytest.raises((ProofError, SignatureError)):
        verify_transcript(shortened, [world.bank.log.verifier])


def test_the_actor_cancels_and_the_admin_cannot(world: World) -> None:
    recovered = _recover(world, delay_days=14)
    cancel = {"actor_id": "prov-1", "key_id": key_id_of(recovered.public_key)}
    with pytest.raises(PermissionDenied, match="only prov-1 itself"):
        world.post(world.admin, "actor.key_recovery_cancelled", cancel)
    with pytest.raises(SignatureError):  # the recovered key cannot veto its own veto window
        world.post(recovered, "actor.key_recovery_cancelled", cancel)
    world.clock.advance(days=8)
    world.post(world.provider, "actor.key_recovery_cancelled", cancel)
    with pytest.raises(ConflictError, match="already revoked"):
        world.post(world.provider, "actor.key_recovery_cancelled", cancel)
    world.clock.advance(days=7)
    world.register_learner("L-1")
    with pytest.raises(SignatureError, match="revoked"):
        world.post(recovered, "certificate.issued", _cert("C-1"))
    # After its delay a recovery can no longer be cancelled (revoke the key instead).
    late = _recover(world)
    world.clock.advance(days=7, seconds=1)
    with pytest.raises(ConflictError, match="took effect"):
        world.post(
            world.provider,
            "actor.key_recovery_cancelled",
            {"actor_id": "prov-1", "key_id": key_id_of(late.public_key)},
        )
    assert audit_authority(world.bank.log.store).recovered == ()


def test_what_a_recovery_cannot_do(world: World) -> None:
    other = Actor("system", Ed25519PrivateKey.generate())
    with pytest.raises(PermissionDenied, match="system actor's keys"):
        _recover(world, "system")
    with pytest.raises(PermissionDenied, match="add a key with actor.key_added"):
        _recover(world, "admin")
    with pytest.raises(EntryFormatError, match="delay_days"):
        _recover(world, delay_days=3)
    with pytest.raises(EntryFormatError, match="reason"):
        world.post(
            world.admin,
            "actor.key_recovered",
            {"actor_id": "prov-1", "public_key": other.public_key, "reason": "fraud"},
        )
    with pytest.raises(PermissionDenied):  # providers cannot recover anybody
        world.post(
            world.provider,
            "actor.key_recovered",
            {"actor_id": "reg-1", "public_key": other.public_key, "reason": "keys-lost"},
        )


def test_a_shortened_delay_in_the_read_models_is_caught_by_verify(sqlite_world: World) -> None:
    """Tamper: the operator edits ``usable_from`` behind the code's back to sign at once."""
    world = sqlite_world
    world.register_learner("L-1")
    recovered = _recover(world)
    with world.bank.engine.begin() as conn:
        conn.execute(
            text("UPDATE actor_keys SET usable_from = NULL WHERE recovered_index IS NOT NULL")
        )
    world.post(recovered, "certificate.issued", _cert("C-1"))  # the live path trusted the row
    with pytest.raises(TamperError, match="before it was usable"):
        audit_authority(world.bank.log.store)
    with pytest.raises(TamperError, match="actor_keys"):
        audit_read_models(world.bank.engine, world.bank.log.store)


def test_the_commands_print_the_flags(sqlite_world: World, tmp_path: Path) -> None:
    world = sqlite_world
    world.register_learner("L-1")
    recovered = _recover(world)
    world.clock.advance(days=7, seconds=1)
    receipt = world.post(recovered, "certificate.issued", _cert("C-1"))
    flag = f"flag: entry {receipt.index} is signed by prov-1 under key"
    url = world.bank.engine.url.render_as_string(hide_password=False)
    verify = ["verify", "--db", url, "--origin", ORIGIN, "--workers", "1"]
    result = CliRunner().invoke(app, verify)
    assert result.exit_code == 0, result.output
    assert flag in " ".join(result.output.split())
    with Session(world.bank.engine) as session:
        bundle = build_transcript(session, world.bank.log, "L-1")
    path = tmp_path / "t.json"
    path.write_text(json.dumps(bundle), "utf-8")
    vkey = world.bank.log.verifier.vkey
    result = CliRunner().invoke(app, ["verify-transcript", str(path), "--log-key", vkey])
    assert result.exit_code == 0, result.output
    assert flag in " ".join(result.output.split())
