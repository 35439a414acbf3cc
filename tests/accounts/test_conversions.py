"""Conversions, reversals, revocation cascades, as-of balances, progress, expiry and transcripts."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, col, select

from creditbank.accounts.conversion_audit import audit_conversions
from creditbank.accounts.replay import snapshot
from creditbank.accounts.tables import RecognitionRow
from creditbank.accounts.transcript import verify_transcript
from creditbank.errors import (
    ConflictError,
    CreditbankError,
    NotFoundError,
    ProofError,
    RuleViolation,
    SignatureError,
    VerificationError,
)
from creditbank.ledger.audit import audit_log

from .conftest import (
    ARTICULATION_MAPPING,
    CNC,
    CNC_MAPPING,
    CREDIT_MAPPING,
    ORIGIN,
    WELD_MAPPING,
    World,
)


@pytest.fixture
def mapped(world: World) -> World:
    for m in (WELD_MAPPING, CNC_MAPPING, CREDIT_MAPPING, ARTICULATION_MAPPING):
        world.register_mapping(m)
    world.register_learner("L-1")
    return world


def state(world: World) -> tuple[int, dict[str, Any]]:
    with Session(world.bank.engine) as session:
        return world.bank.log.size(), snapshot(session)


def claim(course: str, credits: str, mapping_id: str, *sources: str) -> dict[str, Any]:
    return {
        "course_code": course,
        "credits": credits,
        "mapping_id": mapping_id,
        "sources": list(sources),
    }


def post_conversion(
    world: World, conversion_id: str, *claims: dict[str, Any], programme: str = "AD-MFG"
) -> Any:
    return world.post(
        world.registrar,
        "conversion.posted",
        {
            "conversion_id": conversion_id,
            "learner_id": "L-1",
            "programme_code": programme,
            "as_of": world.clock().date().isoformat(),
            "recognitions": list(claims),
        },
    )


def refused_code(world: World, code: str, fn: Any, *args: Any) -> None:
    before = state(world)
    with pytest.raises(RuleViolation) as caught:
        fn(*args)
    assert caught.value.code == code, str(caught.value)
    assert state(world) == before


def test_planner_allocation_is_accepted_with_provenance(mapped: World) -> None:
    cert = mapped.issue("C-1", "L-1")
    mapped.issue("C-2", "L-1", code=CNC, level=3)
    receipt = mapped.convert("X-1", "L-1")
    balance = mapped.bank.balance("L-1")
    (programme,) = balance.programmes
    assert programme.programme_code == "AD-MFG"
    assert programme.recognised == Decimal(4 + 4 + 6 + 6 + 4)
    assert {item.index for item in programme.items} == {receipt.index}
    assert balance.by_source["C-1"] == Decimal(8)
    assert [c.index for c in balance.certificates][0] == cert.index
    modes = {item.mode for item in programme.items}
    assert modes == {"certificate_recognition", "through_train"}


def test_claimed_credits_must_equal_what_the_rules_give(mapped: World) -> None:
    mapped.issue("C-1", "L-1")
    refused_code(
        mapped,
        "credits-mismatch",
        post_conversion,
        mapped,
        "X-1",
        claim("WELD101", "5", "M-WELD", "C-1"),
    )


def test_no_course_is_credited_twice(mapped: World) -> None:
    mapped.issue("C-1", "L-1")
    post_conversion(mapped, "X-1", claim("WELD101", "4", "M-WELD", "C-1"))
    mapped.issue("C-9", "L-1", level=3)
    refused_code(
        mapped,
        "course-already-credited",
        post_conversion,
        mapped,
        "X-2",
        claim("WELD101", "4", "M-WELD", "C-9"),
    )
    refused_code(
        mapped,
        "course-already-credited",
        post_conversion,
        mapped,
        "X-3",
        claim("WELD102", "4", "M-WELD", "C-1"),
        claim("WELD102", "4", "M-WELD", "C-1"),
    )


def test_expired_certificate_and_low_level_and_grade_are_refused(mapped: World) -> None:
    mapped.issue("C-OLD", "L-1", issued_on="2019-01-10")  # valid 5 years: lapsed in 2024
    refused_code(
        mapped,
        "certificate-expired",
        post_conversion,
        mapped,
        "X-1",
        claim("WELD101", "4", "M-WELD", "C-OLD"),
    )
    mapped.issue("C-LOW", "L-1", code=CNC, level=5)  # through-train needs level 3 or better
    refused_code(
        mapped,
        "below-min-level",
        post_conversion,
        mapped,
        "X-2",
        claim("CNC201", "6", "M-CNC-TT", "C-LOW"),
    )
    mapped.credit("CR-1", "L-1", "SSPU", "MA101", "4", grade=55)
    refused_code(
        mapped,
        "grade-too-low",
        post_conversion,
        mapped,
        "X-3",
        claim("MATH100", "4", "M-SSPU-MATH", "CR-1"),
    )
    mapped.credit("CR-2", "L-1", "SSPU", "MA101", "4", grade=75)
    post_conversion(mapped, "X-4", claim("MATH100", "4", "M-SSPU-MATH", "CR-2"))


def test_retired_mapping_no_longer_converts(mapped: World) -> None:
    mapped.issue("C-1", "L-1")
    mapped.post(
        mapped.provider, "mapping.retired", {"mapping_id": "M-WELD", "reason": "entered-in-error"}
    )
    with pytest.raises(RuleViolation):
        post_conversion(mapped, "X-1", claim("WELD101", "4", "M-WELD", "C-1"))
    with pytest.raises(ConflictError):
        mapped.post(
            mapped.provider,
            "mapping.retired",
            {"mapping_id": "M-WELD", "reason": "entered-in-error"},
        )


def test_another_learners_certificate_is_not_a_source(mapped: World) -> None:
    mapped.register_learner("L-2", name="赵敏")
    mapped.issue("C-2", "L-2")
    with pytest.raises(RuleViolation):
        post_conversion(mapped, "X-1", claim("WELD101", "4", "M-WELD", "C-2"))


def test_reversal_drops_the_balance_and_keeps_history(mapped: World) -> None:
    mapped.issue("C-1", "L-1")
    mapped.convert("X-1", "L-1")
    assert mapped.bank.balance("L-1").total_recognised == Decimal(8)
    reversal = mapped.post(
        mapped.registrar,
        "conversion.reversed",
        {"conversion_id": "X-1", "reason": "entered-in-error"},
    )
    assert mapped.bank.balance("L-1").total_recognised == 0
    assert mapped.bank.log.leaf(reversal.index).entry.type == "conversion.reversed"
    with pytest.raises(ConflictError):
        mapped.post(
            mapped.registrar,
            "conversion.reversed",
            {"conversion_id": "X-1", "reason": "entered-in-error"},
        )
    with pytest.raises(NotFoundError):
        mapped.post(
            mapped.registrar,
            "conversion.reversed",
            {"conversion_id": "X-404", "reason": "entered-in-error"},
        )
    mapped.convert("X-2", "L-1")  # the courses are free again
    assert mapped.bank.balance("L-1").total_recognised == Decimal(8)


def test_revocation_cascades_two_levels_deep(mapped: World) -> None:
    mapped.issue("C-1", "L-1")
    mapped.issue("C-2", "L-1", code=CNC, level=3)
    mapped.convert("X-1", "L-1")
    mapped.clock.advance(days=1)
    mapped.convert("Y-1", "L-1", programme="BD-ENG")  # recognises WLD301 from X-1's WELD101
    before = mapped.bank.balance("L-1")
    assert {p.programme_code: p.recognised for p in before.programmes} == {
        "AD-MFG": Decimal(24),
        "BD-ENG": Decimal(4),
    }
    mapped.clock.advance(days=1)
    revocation = mapped.post(
        mapped.provider,
        "certificate.revoked",
        {"certificate_id": "C-1", "reason": "entered-in-error"},
    )
    # h6 (issue 12 item 5): X-1 is reversed, the part C-2 still supports (the through-train
    # block) is re-posted by the system, and Y-1 (which rested on C-1's WELD101) is reversed.
    assert len(revocation.consequences) == 3
    entries = [mapped.bank.log.leaf(i).entry for i in revocation.consequences]
    assert [e.type for e in entries] == [
        "conversion.reversed",
        "conversion.posted",
        "conversion.reversed",
    ]
    ids = [e.body["conversion_id"] for e in entries]
    assert ids[0] == "X-1" and ids[1].startswith("X-1.r") and ids[2] == "Y-1"
    assert all(e.actor == "system" for e in entries)
    reposted = entries[1].body
    assert {r["sources"][0] for r in reposted["recognitions"]} == {"C-2"}
    after = mapped.bank.balance("L-1")
    assert after.total_recognised == Decimal(16)  # nothing still supported was lost
    assert [c.revoked for c in after.certificates] == [True, False]
    # every remaining recognition rests on an unrevoked holding
    with Session(mapped.bank.engine) as session:
        rows = session.exec(select(RecognitionRow).where(col(RecognitionRow.reversed_at).is_(None)))
        assert {s for r in rows for s in r.sources.split()} == {"C-2"}
    audit_log(mapped.bank.log.store, origin=ORIGIN)
    audit_conversions(mapped.bank.log.store)


def test_as_of_balance_reads_the_past(mapped: World) -> None:
    day0 = mapped.clock().date()
    mapped.issue("C-1", "L-1")
    mapped.clock.advance(days=10)
    mapped.convert("X-1", "L-1")
    mapped.clock.advance(days=10)
    mapped.post(
        mapped.registrar,
        "conversion.reversed",
        {"conversion_id": "X-1", "reason": "entered-in-error"},
    )
    assert mapped.bank.balance("L-1", as_of=day0).total_recognised == 0
    assert mapped.bank.balance("L-1", as_of=day0 + timedelta(days=10)).total_recognised == Decimal(
        8
    )
    assert mapped.bank.balance("L-1", as_of=day0 + timedelta(days=20)).total_recognised == 0
    assert mapped.bank.balance("L-1", as_of=date(2020, 1, 1)).certificates == ()


def test_progress_and_what_if(mapped: World) -> None:
    mapped.issue("C-1", "L-1")
    mapped.convert("X-1", "L-1")
    progress = mapped.bank.progress("L-1", "AD-MFG")
    assert progress.recognised == Decimal(8)
    assert progress.total_credits == Decimal(40)
    assert ("WELD101", Decimal(4)) not in progress.missing_courses
    assert ("CNC201", Decimal(6)) in progress.missing_courses
    assert progress.plan.new_credits == 0  # nothing more from what is held
    from creditbank.mapping import CertificateHolding, Holdings

    what_if = Holdings(certificates=(CertificateHolding("W-1", CNC, 3, None, what_if=True),))
    plan = mapped.bank.plan_for("L-1", "AD-MFG", what_if=what_if)
    assert plan.what_if_credits == Decimal(16)


def test_expiring_soon_names_unused_certificates(mapped: World) -> None:
    # Issued 2021-04-01, valid 5 years: lapses 2026-04-01, 30 days after the clock's 2026-03-02.
    mapped.issue("C-1", "L-1", issued_on="2021-04-01")
    items = mapped.bank.expiring("L-1", days=60)
    assert [(i.kind, i.id, i.lapses_on) for i in items] == [
        ("certificate", "C-1", date(2026, 4, 1))
    ]
    assert mapped.bank.expiring("L-1", days=10) == []
    mapped.convert("X-1", "L-1")
    assert mapped.bank.expiring("L-1", days=60) == []  # used: nothing to warn about
    with pytest.raises(CreditbankError):
        mapped.bank.expiring("L-1", days=0)


def test_transcript_round_trip_and_tampering(mapped: World) -> None:
    mapped.issue("C-1", "L-1")
    mapped.issue("C-2", "L-1", code=CNC, level=3)
    mapped.convert("X-1", "L-1")
    bundle = mapped.bank.transcript("L-1")
    verifier = mapped.bank.log.verifier
    proven = verify_transcript(bundle, [verifier])
    assert proven.recognised == {"AD-MFG": Decimal(24)}
    assert {c["certificate_id"] for c in proven.certificates} == {"C-1", "C-2"}

    inflated = copy.deepcopy(bundle)
    for item in inflated["entries"]:
        if item["leaf"]["entry"]["type"] == "conversion.posted":
            item["leaf"]["entry"]["body"]["recognitions"][0]["credits"] = "40"
    with pytest.raises(VerificationError):
        verify_transcript(inflated, [verifier])

    dropped_proof = copy.deepcopy(bundle)
    dropped_proof["entries"][-1]["inclusion_proof"] = dropped_proof["entries"][-1][
        "inclusion_proof"
    ][1:]
    with pytest.raises(ProofError):
        verify_transcript(dropped_proof, [verifier])

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from creditbank.ledger.checkpoint import NoteSigner

    stranger = NoteSigner(ORIGIN, Ed25519PrivateKey.generate()).verifier
    with pytest.raises(VerificationError):
        verify_transcript(bundle, [stranger])

    no_actor = copy.deepcopy(bundle)
    no_actor["entries"] = [
        e
        for e in no_actor["entries"]
        if e["leaf"]["entry"]["type"] != "actor.registered" or e["index"] == 0
    ]
    with pytest.raises(SignatureError):
        verify_transcript(no_actor, [verifier])


def test_rebuild_reproduces_the_read_models(mapped: World) -> None:
    from creditbank.accounts.replay import rebuild

    mapped.issue("C-1", "L-1")
    mapped.issue("C-2", "L-1", code=CNC, level=3)
    mapped.convert("X-1", "L-1")
    mapped.convert("Y-1", "L-1", programme="BD-ENG")
    mapped.post(
        mapped.provider,
        "certificate.revoked",
        {"certificate_id": "C-1", "reason": "entered-in-error"},
    )
    live = state(mapped)
    rebuild(mapped.bank.log.store)  # type: ignore[arg-type]
    assert state(mapped) == live
