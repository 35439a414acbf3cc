"""Issue 9 findings on the accounts write path, each reproduced as the review did it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from creditbank.accounts.bank import Submission
from creditbank.accounts.kinds import KINDS
from creditbank.errors import EncodingError, EntryFormatError, RuleViolation
from creditbank.ledger.canonical import parse_json
from creditbank.ledger.chain import INDEX_ENTRY_TYPE
from creditbank.ledger.entry import Leaf

from .conftest import ARTICULATION_MAPPING, CNC, CNC_MAPPING, CREDIT_MAPPING, WELD_MAPPING, World


@pytest.fixture
def mapped(world: World) -> World:
    for m in (WELD_MAPPING, CNC_MAPPING, CREDIT_MAPPING, ARTICULATION_MAPPING):
        world.register_mapping(m)
    world.register_learner("L-1")
    return world


def test_issue9_item1_cascade_ids_never_collide(mapped: World) -> None:
    """Conversions ``CVZ.1`` and ``CVZ:1`` built on one certificate: its revocation succeeds."""
    mapped.issue("C-1", "L-1")
    mapped.issue("C-2", "L-1", code=CNC, level=3)
    mapped.convert("CVZ.1", "L-1")
    mapped.clock.advance(days=1)
    mapped.convert("CVZ:1", "L-1", programme="BD-ENG")  # built on CVZ.1's WELD101
    mapped.clock.advance(days=1)
    revocation = mapped.post(
        mapped.provider, "certificate.revoked", {"certificate_id": "C-1", "reason": "fraud"}
    )
    # Revocation reverses (and, since issue 12, re-posts what still stands): the reversals here.
    consequences = [mapped.bank.log.leaf(i) for i in revocation.consequences]
    leaves = [leaf for leaf in consequences if leaf.entry.type == "conversion.reversed"]
    assert [leaf.entry.body["conversion_id"] for leaf in leaves] == ["CVZ.1", "CVZ:1"]
    nonces = [leaf.entry.nonce for leaf in leaves]
    assert len(set(nonces)) == 2
    assert all(n.startswith("reversal-of-") for n in nonces)
    assert {leaf.entry.body["reason"] for leaf in leaves} == {"source-withdrawn"}


def test_issue9_item4_an_unexpected_failure_fails_only_its_own_submission(
    mapped: World,
) -> None:
    """A bug (any exception) while staging one submission of a group fails that one alone."""
    kind = KINDS["credit.earned"]
    original = kind.admit

    def admit(snapshot: Any, body: Any, admission: Any) -> None:
        if body.credit_id == "CR-BOOM":
            raise RuntimeError("a bug in one kind's rules")
        original(snapshot, body, admission)

    object.__setattr__(kind, "admit", admit)  # the kind is frozen: patch it for this test only
    try:
        items = []
        for credit_id in ("CR-A", "CR-BOOM", "CR-B"):
            body = {
                "credit_id": credit_id,
                "learner_id": "L-1",
                "institution": "SSPU",
                "course_code": "MA101",
                "credits": "4",
                "grade": 80,
                "earned_on": "2025-01-15",
            }
            items.append(
                Submission(mapped.sign(mapped.registrar_of("SSPU"), "credit.earned", body))
            )
        before = mapped.bank.log.size()
        outcomes = mapped.bank.submit_group(items)
    finally:
        object.__setattr__(kind, "admit", original)
    assert isinstance(outcomes[1], RuntimeError)
    assert not isinstance(outcomes[0], Exception) and not isinstance(outcomes[2], Exception)
    # Exactly the two good entries were appended (beside the learner index root the batch adds).
    added = [row.entry_type for row in mapped.bank.log.store.leaves(before, mapped.bank.log.size())]
    assert sorted(t for t in added if t != INDEX_ENTRY_TYPE) == ["credit.earned", "credit.earned"]
    assert {c.credit_id for c in mapped.bank.balance("L-1").credits_earned} >= {"CR-A", "CR-B"}


def test_issue9_item5_the_entry_parser_refuses_duplicate_keys() -> None:
    with pytest.raises(EncodingError):
        parse_json(b'{"entry":{"body":{"level":3,"level":1}}}')
    with pytest.raises(EncodingError):
        Leaf.from_bytes(b'{"entry":1,"entry":2,"integrated_at":"x","signature":{}}')


@pytest.mark.parametrize("credits", ["1\u0660", "1\uff10", "4\n", " 4", "+4", "4.000", "1e1"])
def test_issue9_item5_credits_have_one_ascii_grammar(mapped: World, credits: str) -> None:
    with pytest.raises(EntryFormatError, match="credits"):
        mapped.credit("CR-X", "L-1", "SSPU", "MA101", credits, grade=80)


@pytest.mark.parametrize("level", ["3", True, 3.0])
def test_issue9_item5_levels_are_json_integers(mapped: World, level: Any) -> None:
    with pytest.raises((EntryFormatError, EncodingError)):
        mapped.issue("C-X", "L-1", level=level)


def test_issue9_item6_claimed_at_in_the_future_is_refused(mapped: World) -> None:
    now = mapped.clock()
    mapped.clock.now = now + timedelta(minutes=10)
    ahead = mapped.sign(mapped.provider, "certificate.issued", _cert("C-AHEAD"))
    mapped.clock.now = now
    with pytest.raises(RuleViolation) as refused:
        mapped.bank.submit(ahead)
    assert refused.value.code == "claimed-in-future"
    mapped.clock.now = now + timedelta(minutes=4)
    within = mapped.sign(mapped.provider, "certificate.issued", _cert("C-SKEW"))
    mapped.clock.now = now
    mapped.bank.submit(within)  # a few minutes of clock skew are fine


def test_issue9_item6_claimed_at_older_than_the_window_is_refused(mapped: World) -> None:
    stale = mapped.sign(mapped.provider, "certificate.issued", _cert("C-OLD"))
    mapped.clock.advance(days=31)
    with pytest.raises(RuleViolation) as refused:
        mapped.bank.submit(stale)
    assert refused.value.code == "claimed-too-old"


def _cert(certificate_id: str) -> dict[str, Any]:
    return {
        "certificate_id": certificate_id,
        "learner_id": "L-1",
        "qualification_code": "6-18-02-04",
        "level": 4,
        "issued_on": "2024-06-01",
    }
