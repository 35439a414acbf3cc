"""Transcript v2 proves completeness: hiding a revocation, reordering, duplicating or substituting
an entry fails and says which; v1 bundles still verify, reported as not proven complete."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from creditbank.accounts.transcript import TRANSCRIPT_V1, build_transcript, verify_transcript
from creditbank.errors import CreditbankError, ProofError
from creditbank.ledger.audit import audit_log
from creditbank.ledger.checkpoint import NoteVerifier
from tests.accounts.conftest import (
    CNC,
    CREDIT_MAPPING,
    ORIGIN,
    WELD_MAPPING,
    World,
)


@pytest.fixture
def revoked(sqlite_world: World) -> World:
    """L-1 holds two certificates; a conversion used the first, which is then revoked."""
    world = sqlite_world
    for m in (WELD_MAPPING, CREDIT_MAPPING):
        world.register_mapping(m)
    world.register_learner("L-1")
    world.register_learner("L-2")
    world.issue("C-1", "L-1")
    world.issue("C-2", "L-1", code=CNC, level=3)
    world.issue("C-9", "L-2")
    world.credit("CR-1", "L-1", "SSPU", "MA101", "4", 88)
    world.convert("X-1", "L-1")
    world.clock.advance(days=1)
    world.post(world.provider, "certificate.revoked", {"certificate_id": "C-1", "reason": "fraud"})
    return world


def _bundle(world: World, learner: str = "L-1") -> dict[str, Any]:
    with Session(world.bank.engine) as session:
        return build_transcript(session, world.bank.log, learner)


def _key(world: World) -> list[NoteVerifier]:
    return [world.bank.log.verifier]


def _types(bundle: dict[str, Any]) -> list[str]:
    return [e["leaf"]["entry"]["type"] for e in bundle["entries"]]


def _drop(bundle: dict[str, Any], entry_type: str) -> dict[str, Any]:
    forged = copy.deepcopy(bundle)
    forged["entries"] = [e for e in forged["entries"] if e["leaf"]["entry"]["type"] != entry_type]
    return forged


def test_a_complete_transcript_verifies_and_says_as_of_when(revoked: World) -> None:
    bundle = _bundle(revoked)
    proven = verify_transcript(bundle, _key(revoked))
    assert proven.complete_as_of == bundle["completeness"]["index_entry"]
    # The revocation reversed X-1 and re-posted the course CR-1 still supports (issue 12): 4.
    assert proven.total_recognised == revoked.bank.balance("L-1").total_recognised == Decimal(4)
    assert "conversion.reversed" in _types(bundle) and "certificate.revoked" in _types(bundle)
    audit = audit_log(revoked.bank.log.store, origin=ORIGIN)
    assert audit.index_entries_checked > 5


def test_hiding_a_reversal_or_a_revocation_fails(revoked: World) -> None:
    """Issue 11, attack 1: the reversal (or revocation and reversal) removed from the JSON."""
    bundle = _bundle(revoked)
    with pytest.raises(ProofError, match="missing"):
        verify_transcript(_drop(bundle, "conversion.reversed"), _key(revoked))
    with pytest.raises(ProofError, match="missing"):
        verify_transcript(
            _drop(_drop(bundle, "conversion.reversed"), "certificate.revoked"), _key(revoked)
        )
    stripped = copy.deepcopy(bundle)
    stripped["completeness"] = None  # claim nothing: then nothing is proven complete
    assert verify_transcript(stripped, _key(revoked)).complete_as_of is None


def test_a_middle_entry_removed_names_where(revoked: World) -> None:
    bundle = _bundle(revoked)
    credit = next(e for e in bundle["entries"] if e["leaf"]["entry"]["type"] == "credit.earned")
    forged = copy.deepcopy(bundle)
    forged["entries"] = [e for e in forged["entries"] if e["index"] != credit["index"]]
    with pytest.raises(ProofError, match=r"1 entry\(ies\) of L-1 are missing after entry"):
        verify_transcript(forged, _key(revoked))


def test_reordering_duplicating_and_substituting_fail(revoked: World) -> None:
    bundle = _bundle(revoked)
    mine = [i for i, e in enumerate(bundle["entries"]) if e["leaf"].get("chain", {}).get("learner")]
    reordered = copy.deepcopy(bundle)
    a, b = mine[1], mine[2]
    reordered["entries"][a], reordered["entries"][b] = bundle["entries"][b], bundle["entries"][a]
    with pytest.raises(ProofError, match="out of order"):
        verify_transcript(reordered, _key(revoked))
    duplicated = copy.deepcopy(bundle)
    duplicated["entries"].append(copy.deepcopy(bundle["entries"][mine[1]]))
    with pytest.raises(CreditbankError, match="appears twice"):
        verify_transcript(duplicated, _key(revoked))
    # Substitute L-1's certificate with L-2's (a real, included entry, proven at the same size).
    other = _bundle(revoked, "L-2")
    theirs = next(e for e in other["entries"] if e["leaf"]["entry"]["type"] == "certificate.issued")
    if other["tree_size"] == bundle["tree_size"]:
        substituted = copy.deepcopy(bundle)
        position = next(
            i for i in mine if bundle["entries"][i]["leaf"]["entry"]["type"] == "certificate.issued"
        )
        substituted["entries"][position] = theirs
        with pytest.raises(ProofError, match="belongs to learner L-2's history"):
            verify_transcript(substituted, _key(revoked))


def test_a_v1_bundle_still_verifies_but_is_not_proven_complete(revoked: World) -> None:
    bundle = _bundle(revoked)
    v1 = copy.deepcopy(bundle)
    v1["format"] = TRANSCRIPT_V1
    del v1["completeness"]
    proven = verify_transcript(v1, _key(revoked))
    assert proven.complete_as_of is None
    assert proven.total_recognised == Decimal(4)  # what CR-1 still supports (re-posted)


def test_a_learner_with_no_entries_beyond_registration(sqlite_world: World) -> None:
    sqlite_world.register_learner("L-7")
    bundle = _bundle(sqlite_world, "L-7")
    proven = verify_transcript(bundle, _key(sqlite_world))
    assert proven.complete_as_of is not None and proven.entries >= 1


def test_a_learner_with_entries_from_before_chains_is_not_proven_complete(
    sqlite_world: World,
) -> None:
    """A log written before chains existed: its learners' transcripts still verify, and say
    they are not proven complete instead of failing."""
    world = sqlite_world
    chains = world.bank.log.chains
    world.bank.log.chains = None  # as the code before issue 11 appended
    world.register_learner("L-old")
    world.bank.log.chains = chains
    world.credit("CR-1", "L-old", "SSPU", "MA101", "4", 88)  # chained from here on
    bundle = _bundle(world, "L-old")
    assert bundle["completeness"] is None
    proven = verify_transcript(bundle, _key(world))
    assert proven.complete_as_of is None and proven.entries >= 2
