"""Key authority: the operator cannot sign as an actor, and no entry touches the system's keys."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.authority import audit_authority
from creditbank.errors import PermissionDenied, SignatureError
from creditbank.ledger.entry import key_id_of, public_key_to_b64
from tests.accounts.conftest import Actor, World


def _cert(world: World) -> dict:
    world.register_learner("L-1")
    return {
        "certificate_id": "C-1",
        "learner_id": "L-1",
        "qualification_code": "6-18-02-04",
        "level": 4,
        "issued_on": "2024-01-01",
    }


def test_the_admin_cannot_add_its_own_key_to_a_provider_and_sign_as_it(world: World) -> None:
    """Issue 11, attack 4a: the admin added its key to prov-06 and issued as prov-06."""
    body = _cert(world)
    stolen = Actor("prov-1", world.admin.key)
    with pytest.raises(PermissionDenied, match="needs a signature by one of prov-1's current keys"):
        world.post(
            world.admin, "actor.key_added", {"actor_id": "prov-1", "public_key": stolen.public_key}
        )
    fresh = Actor("prov-1", Ed25519PrivateKey.generate())
    with pytest.raises(PermissionDenied):
        world.post(
            world.admin, "actor.key_added", {"actor_id": "prov-1", "public_key": fresh.public_key}
        )
    with pytest.raises(SignatureError):
        world.post(stolen, "certificate.issued", body)
    # The provider itself can rotate: sign with its current key.
    world.post(
        world.provider, "actor.key_added", {"actor_id": "prov-1", "public_key": fresh.public_key}
    )
    world.post(fresh, "certificate.issued", body)
    audit_authority(world.bank.log.store)


def test_no_entry_changes_the_system_actors_keys(world: World) -> None:
    """Issue 11, attack 4b: the admin added a key to system and revoked the log's own key."""
    other = Ed25519PrivateKey.generate()
    with pytest.raises(PermissionDenied, match="system actor's keys"):
        world.post(
            world.admin,
            "actor.key_added",
            {"actor_id": "system", "public_key": public_key_to_b64(other.public_key())},
        )
    system_key = world.bank.log.signer.private_key  # type: ignore[union-attr]
    with pytest.raises(PermissionDenied, match="system actor's keys"):
        world.post(
            world.admin,
            "actor.key_revoked",
            {"actor_id": "system", "key_id": key_id_of(public_key_to_b64(system_key.public_key()))},
        )
    # The admin may still revoke a provider's key (that stops the provider; it forges nothing).
    world.post(
        world.admin,
        "actor.key_revoked",
        {"actor_id": "prov-1", "key_id": key_id_of(world.provider.public_key)},
    )
    audit_authority(world.bank.log.store)
