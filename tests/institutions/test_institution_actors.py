"""Issue 12 item 1: institutions are actors and every registrar belongs to one.

Each refusal leaves the log as it was. A registrar registered before institutions existed (its
``actors.institution`` is NULL after migration 0008) is made here by clearing the column behind
the code's back, as the migration leaves such rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.errors import CreditbankError, EntryFormatError, InputError, PermissionDenied
from creditbank.ledger.entry import public_key_to_b64
from creditbank.ledger.keys import generate_key
from tests.api.world import World, unique


def _actor(role: str, actor_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "actor_id": actor_id or unique(role[:4]),
        "role": role,
        "name": f"a {role}",
        "public_key": public_key_to_b64(generate_key().public_key()),
        **extra,
    }


def _refused(world: World, body: dict[str, Any], error: type[CreditbankError], match: str) -> None:
    size = world.bank.log.size()
    with pytest.raises(error, match=match):
        world.bank.submit(world.admin.sign("actor.registered", body))
    assert world.bank.log.size() == size


def test_registering_institutions_and_registrars(sqlite_world: World) -> None:
    world = sqlite_world
    _refused(world, _actor("registrar"), EntryFormatError, "a registrar names its institution")
    _refused(world, _actor("registrar", institution="SUES"), PermissionDenied, "not a registered")
    _refused(world, _actor("provider", institution="SOU"), EntryFormatError, "only a registrar")
    _refused(world, _actor("institution", "sou-2"), EntryFormatError, "its code")
    _refused(world, _actor("institution", "SUMHS", institution="SOU"), EntryFormatError, "only a")
    _refused(world, _actor("registrar", institution="sou"), EntryFormatError, "institution")
    # a provider cannot stand in for an institution
    provider = world.provider.actor_id
    _refused(world, _actor("registrar", institution=provider), EntryFormatError, "institution")
    world.bank.submit(world.admin.sign("actor.registered", _actor("institution", "SUES")))
    world.bank.submit(world.admin.sign("actor.registered", _actor("registrar", institution="SUES")))
    # an institution posts nothing itself: no token for it
    with pytest.raises(InputError, match="institution"):
        world.bank.issue_token(actor_id="SUES")


def test_a_registrar_without_an_institution_posts_nothing_institution_bound(
    sqlite_world: World,
) -> None:
    world = sqlite_world
    legacy = world.new_registrar("SOU")
    with world.bank.engine.begin() as conn:  # as migration 0008 leaves an older registrar
        conn.execute(
            text("UPDATE actors SET institution = NULL WHERE actor_id = :a"), {"a": legacy.actor_id}
        )
    learner = world.convertible_learner()  # registered by SOU's registrar
    for entry_type, body in (
        ("conversion.posted", world.conversion_body(learner.learner_id)),
        ("conversion.reversed", {"conversion_id": world.new_conversion()[0], "reason": "other"}),
        ("mapping.approved", {"mapping_id": world.new_mapping(), "version": 1}),
    ):
        size = world.bank.log.size()
        with pytest.raises(PermissionDenied, match="belongs to no institution"):
            world.bank.submit(legacy.sign(entry_type, body))
        assert world.bank.log.size() == size
    # what is nobody's institution's stays open to it: registering a learner
    identity = Identity(name="测试学员", id_number=unique("ID"), salt=new_salt())
    world.bank.submit(
        legacy.sign(
            "learner.registered",
            {"learner_id": new_learner_id(), "commitment": commitment_of(identity)},
        ),
        identity=identity,
    )
