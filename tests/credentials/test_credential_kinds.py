"""The two credential entry kinds: a refusal per rule, the ledger unchanged after each."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.credential_rows import IssuedCredentialRow
from creditbank.credentials.issuance import issue_credential
from creditbank.credentials.issuer import CredentialIssuer
from creditbank.errors import ConflictError, CreditbankError, EntryFormatError, NotFoundError
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.keys import generate_key
from tests.api.world import World, unique


def _system(world: World, entry_type: str, body: dict[str, Any]) -> SignedEntry:
    signer = world.bank.log.signer
    assert signer is not None
    entry = Entry.create(
        type=entry_type,
        actor=SYSTEM_ACTOR,
        nonce=unique("n"),
        body=body,
        claimed_at=datetime.now(UTC),
    )
    return sign_entry(entry, signer.private_key)


def _refused(world: World, signed: SignedEntry, error: type[CreditbankError]) -> None:
    size = world.bank.log.size()
    with pytest.raises(error):
        world.bank.submit(signed)
    assert world.bank.log.size() == size


def test_a_key_is_registered_once(world: World) -> None:
    key = public_key_to_b64(generate_key().public_key())
    world.bank.submit(_system(world, "credential_key.registered", {"public_key": key}))
    _refused(world, _system(world, "credential_key.registered", {"public_key": key}), ConflictError)
    _refused(
        world,
        _system(world, "credential_key.registered", {"public_key": "not a key"}),
        EntryFormatError,
    )


def test_only_the_system_registers_keys_or_sets_bits(world: World) -> None:
    key = public_key_to_b64(generate_key().public_key())
    size = world.bank.log.size()
    with pytest.raises(CreditbankError):
        world.bank.submit(world.admin.sign("credential_key.registered", {"public_key": key}))
    assert world.bank.log.size() == size


def test_status_change_rules(world: World, issuer: CredentialIssuer) -> None:
    learner = world.convertible_learner()
    issued = issue_credential(
        world.bank, issuer, learner.learner_id, include_name=False, now=datetime.now(UTC)
    )
    status = issued.document["credentialStatus"]
    list_number = int(status["statusListCredential"].rsplit("/", 1)[1])
    body = {
        "status_list": list_number,
        "status_index": int(status["statusListIndex"]),
        "reason": "source-withdrawn",
    }
    _refused(
        world,
        _system(world, "credential.status_changed", {**body, "reason": "typo"}),
        EntryFormatError,
    )
    with Session(world.bank.engine) as session:
        used = set(session.exec(select(IssuedCredentialRow.status_index)))
    unused = next(i for i in range(131072) if i not in used)
    _refused(
        world,
        _system(world, "credential.status_changed", {**body, "status_index": unused}),
        NotFoundError,
    )
    world.bank.submit(_system(world, "credential.status_changed", body))
    _refused(world, _system(world, "credential.status_changed", body), ConflictError)
