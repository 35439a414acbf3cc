"""Every rule that guards an append: a refused entry changes nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlmodel import Session

from creditbank.accounts.identity import Identity, commitment_of, new_salt
from creditbank.accounts.identity_vault import SealedIdentityRow
from creditbank.accounts.replay import snapshot
from creditbank.accounts.tables import LearnerIdentityRow, TokenRow
from creditbank.errors import (
    AuthenticationError,
    ConflictError,
    CreditbankError,
    DuplicateNonceError,
    EncodingError,
    EntryFormatError,
    NotFoundError,
    PermissionDenied,
    RuleViolation,
    SignatureError,
)
from creditbank.ledger.audit import audit_log
from creditbank.ledger.entry import Entry, key_id_of, sign_entry

from .conftest import ORIGIN, Actor, World


def state(world: World) -> tuple[int, dict[str, Any]]:
    with Session(world.bank.engine) as session:
        return world.bank.log.size(), snapshot(session)


def refused(
    world: World, error: type[CreditbankError], fn: Any, *args: Any, **kw: Any
) -> CreditbankError:
    """Call ``fn``; it must raise ``error`` and leave the ledger and read models as they were."""
    before = state(world)
    with pytest.raises(error) as caught:
        fn(*args, **kw)
    assert state(world) == before
    return caught.value


def test_genesis_registers_system_then_admin(world: World) -> None:
    first, second = world.bank.log.leaf(0), world.bank.log.leaf(1)
    assert (first.entry.actor, first.entry.body["role"]) == ("system", "system")
    assert (second.entry.body["actor_id"], second.entry.body["role"]) == ("admin", "admin")
    with pytest.raises(ConflictError):
        world.bank.bootstrap(
            admin_id="admin2", admin_name="x", admin_public_key=Actor("x").public_key
        )


def test_unregistered_actor_is_refused(world: World) -> None:
    stranger = Actor("stranger")
    refused(
        world,
        PermissionDenied,
        world.post,
        stranger,
        "learner.registered",
        {"learner_id": "L-1", "commitment": "0" * 64},
    )


def test_role_must_be_allowed_to_sign_the_type(world: World) -> None:
    world.register_learner("L-1")
    body = {
        "certificate_id": "C-1",
        "learner_id": "L-1",
        "qualification_code": "6-18-02-04",
        "level": 4,
        "issued_on": "2024-01-01",
    }
    error = refused(
        world, PermissionDenied, world.post, world.registrar, "certificate.issued", body
    )
    assert "provider" in str(error)


def test_key_must_belong_to_the_actor(world: World) -> None:
    impostor = Actor("prov-1")  # right name, someone else's key
    refused(
        world,
        SignatureError,
        world.post,
        impostor,
        "mapping.retired",
        {"mapping_id": "M-X", "reason": "entered-in-error"},
    )


def test_forged_signature_is_refused(world: World) -> None:
    world.register_learner("L-1")
    signed = world.sign(
        world.provider,
        "certificate.issued",
        {
            "certificate_id": "C-1",
            "learner_id": "L-1",
            "qualification_code": "6-18-02-04",
            "level": 4,
            "issued_on": "2024-01-01",
        },
    )
    other = Entry.from_json({**signed.entry.to_json(), "body": {**signed.entry.body, "level": 1}})
    forged = type(signed)(entry=other, public_key=signed.public_key, signature=signed.signature)
    refused(world, SignatureError, world.bank.submit, forged)


def test_revoked_key_no_longer_signs_and_rotated_key_does(world: World) -> None:
    new_key = Ed25519PrivateKey.generate()
    rotated = Actor("prov-1", new_key)
    world.post(  # signed by prov-1's current key (h5: key authority)
        world.provider, "actor.key_added", {"actor_id": "prov-1", "public_key": rotated.public_key}
    )
    world.post(
        world.admin,
        "actor.key_revoked",
        {"actor_id": "prov-1", "key_id": key_id_of(world.provider.public_key)},
    )
    world.register_learner("L-1")
    body = {
        "certificate_id": "C-1",
        "learner_id": "L-1",
        "qualification_code": "6-18-02-04",
        "level": 4,
        "issued_on": "2024-01-01",
    }
    refused(world, SignatureError, world.post, world.provider, "certificate.issued", body)
    world.post(rotated, "certificate.issued", body)


def test_unknown_fields_and_types_are_refused(world: World) -> None:
    error = refused(
        world,
        EntryFormatError,
        world.post,
        world.registrar,
        "learner.registered",
        {"learner_id": "L-1", "commitment": "0" * 64, "name": "张伟"},
    )
    assert "name" in str(error)
    refused(
        world,
        EntryFormatError,
        world.post,
        world.registrar,
        "learner.renamed",
        {"learner_id": "L-1"},
    )
    credit = {
        "credit_id": "CR-1",
        "learner_id": "L-1",
        "institution": "SSPU",
        "course_code": "MA101",
        "credits": 2.5,
        "grade": 80,
        "earned_on": "2024-01-01",
    }
    # A float cannot even be encoded for signing: credits are exact decimal strings.
    refused(world, EncodingError, world.post, world.registrar, "credit.earned", credit)
    world.register_learner("L-1")
    too_precise = {**credit, "credits": "2.555"}
    refused(world, EntryFormatError, world.post, world.registrar, "credit.earned", too_precise)


def test_learner_commitment_must_match_identity(world: World) -> None:
    identity = Identity(name="李娜", id_number="310101199202022222", salt=new_salt())
    wrong = Identity(name="李娜", id_number="310101199202022223", salt=identity.salt)
    body = {"learner_id": "L-9", "commitment": commitment_of(identity)}
    error = refused(
        world,
        RuleViolation,
        world.post,
        world.registrar,
        "learner.registered",
        body,
        identity=wrong,
    )
    assert error.code == "commitment-mismatch"  # type: ignore[attr-defined]
    world.post(world.registrar, "learner.registered", body, identity=identity)
    refused(
        world,
        ConflictError,
        world.post,
        world.registrar,
        "learner.registered",
        body,
        identity=identity,
    )


def test_certificate_rules(world: World) -> None:
    body = {
        "certificate_id": "C-1",
        "learner_id": "L-404",
        "qualification_code": "6-18-02-04",
        "level": 4,
        "issued_on": "2024-01-01",
    }
    refused(world, NotFoundError, world.post, world.provider, "certificate.issued", body)
    world.register_learner("L-1")
    refused(
        world,
        RuleViolation,
        world.post,
        world.provider,
        "certificate.issued",
        {**body, "learner_id": "L-1", "issued_on": "2030-01-01"},
    )
    refused(
        world,
        EntryFormatError,
        world.post,
        world.provider,
        "certificate.issued",
        {**body, "learner_id": "L-1", "qualification_code": "welder"},
    )
    refused(
        world,
        EntryFormatError,
        world.post,
        world.provider,
        "certificate.issued",
        {**body, "learner_id": "L-1", "level": 6},
    )
    world.issue("C-1", "L-1")
    refused(world, ConflictError, world.issue, "C-1", "L-1")
    other = Actor("prov-2")
    world.register_actor(other, "provider")
    refused(
        world,
        PermissionDenied,
        world.post,
        other,
        "certificate.revoked",
        {"certificate_id": "C-1", "reason": "entered-in-error"},
    )
    world.post(
        world.provider,
        "certificate.revoked",
        {"certificate_id": "C-1", "reason": "entered-in-error"},
    )
    refused(
        world,
        ConflictError,
        world.post,
        world.provider,
        "certificate.revoked",
        {"certificate_id": "C-1", "reason": "entered-in-error"},
    )


def test_nonce_is_never_reused(world: World) -> None:
    world.register_learner("L-1")
    world.post(
        world.provider,
        "certificate.issued",
        {
            "certificate_id": "C-1",
            "learner_id": "L-1",
            "qualification_code": "6-18-02-04",
            "level": 4,
            "issued_on": "2024-01-01",
        },
        nonce="fixed-nonce-1",
    )
    refused(
        world,
        DuplicateNonceError,
        world.post,
        world.provider,
        "certificate.issued",
        {
            "certificate_id": "C-2",
            "learner_id": "L-1",
            "qualification_code": "6-18-02-04",
            "level": 4,
            "issued_on": "2024-01-01",
        },
        nonce="fixed-nonce-1",
    )


def test_batch_is_all_or_nothing(world: World) -> None:
    world.register_learner("L-1")
    good = world.sign(
        world.provider,
        "certificate.issued",
        {
            "certificate_id": "C-1",
            "learner_id": "L-1",
            "qualification_code": "6-18-02-04",
            "level": 4,
            "issued_on": "2024-01-01",
        },
    )
    bad = world.sign(
        world.provider,
        "certificate.issued",
        {
            "certificate_id": "C-2",
            "learner_id": "L-404",
            "qualification_code": "6-18-02-04",
            "level": 4,
            "issued_on": "2024-01-01",
        },
    )
    refused(world, NotFoundError, world.bank.submit_many, [good, bad])


def test_erasure_keeps_the_log_verifiable_and_unlinked(world: World) -> None:
    world.register_learner("L-1", name="王芳")
    world.issue("C-1", "L-1")
    world.bank.erase_learner("L-1")
    with Session(world.bank.engine) as session:
        assert session.get(LearnerIdentityRow, "L-1") is None
        assert session.get(SealedIdentityRow, "L-1") is None
    for _, leaf in world.bank.log.leaves(0, world.bank.log.size()):
        assert "王芳".encode() not in leaf.data and b"310101199001011234" not in leaf.data
    audit_log(world.bank.log.store, origin=ORIGIN)
    assert [c.certificate_id for c in world.bank.balance("L-1").certificates] == ["C-1"]
    with pytest.raises(NotFoundError):
        world.bank.erase_learner("L-1")


def test_tokens_are_stored_hashed(world: World) -> None:
    world.register_learner("L-1")
    token = world.bank.issue_token(learner_id="L-1", label="phone")
    principal = world.bank.authenticate(token)
    assert (principal.role, principal.learner_id) == ("learner", "L-1")
    with Session(world.bank.engine) as session:
        dump = " ".join(str(row) for row in session.exec(text("SELECT * FROM api_tokens")))  # type: ignore[call-overload]
        assert token not in dump
        (row,) = session.exec(text("SELECT token_hash FROM api_tokens")).all()  # type: ignore[call-overload]
        world.bank.revoke_token(row[0])
    with pytest.raises(AuthenticationError):
        world.bank.authenticate(token)
    with pytest.raises(AuthenticationError):
        world.bank.authenticate("cbt_not-a-token")
    assert TokenRow.__tablename__ == "api_tokens"


def test_signature_block_key_must_match_registered_key(world: World) -> None:
    entry = Entry.create(
        type="mapping.retired",
        actor="prov-1",
        nonce="abcdefgh1",
        claimed_at=world.clock(),
        body={"v": 1, "mapping_id": "M-1", "reason": "entered-in-error"},
    )
    signed = sign_entry(entry, Ed25519PrivateKey.generate())
    refused(world, SignatureError, world.bank.submit, signed)
