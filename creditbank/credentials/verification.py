"""Verify a creditbank credential offline: its proofs, its evidence down to the log, its status.

:func:`verify_credential` raises a :class:`~creditbank.errors.VerificationError` at the first thing
that does not check out, and reports each check that passed through ``on_pass`` (the CLI prints
them). What is trusted is explicit: the log's verifier keys (from the caller, else the one the
credential's own transcript names, which the caller is told), the status list the caller fetched,
and the issuing keys the bank's ``did:web`` document lists, when the caller fetched it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from creditbank.accounts.transcript import ProvenCredits, verify_transcript
from creditbank.credentials.document import (
    CLR_CONTEXT,
    KEY_REGISTRATION_GENRE,
    VC_CONTEXT,
    learner_subject_id,
)
from creditbank.credentials.eddsa_jcs import VerifiedProof, format_datetime, verify_proof
from creditbank.credentials.status_list import read_status_bit
from creditbank.errors import (
    CredentialFormatError,
    CredentialProofError,
    CredentialRevokedError,
    CreditbankError,
    EvidenceError,
    KeyFormatError,
)
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.entry import Leaf, public_key_to_b64
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.merkle_verify import verify_inclusion

__all__ = ["VerifiedCredential", "verify_credential"]

OnPass = Callable[[str], None]
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class VerifiedCredential:
    """What a verified credential shows."""

    credential_id: str
    learner_id: str
    verification_method: str
    achievements: int
    proven: ProvenCredits
    log_key_from_credential: bool
    status_checked: bool


def _shape(document: Any) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise CredentialFormatError("a credential is a JSON object")
    context, types = document.get("@context"), document.get("type")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        raise CredentialFormatError(f"@context must start with {VC_CONTEXT}")
    if CLR_CONTEXT not in context:
        raise CredentialFormatError("not a CLR 2.0 credential (its context is missing)")
    if not isinstance(types, list) or not {"VerifiableCredential", "ClrCredential"} <= set(types):
        raise CredentialFormatError("type must include VerifiableCredential and ClrCredential")
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping) or not isinstance(
        subject.get("verifiableCredential"), list
    ):
        raise CredentialFormatError("credentialSubject.verifiableCredential must be a list")
    return document


def _check_times(document: Mapping[str, Any], now: datetime, what: str) -> None:
    valid_from = document.get("validFrom")
    if not isinstance(valid_from, str):
        raise CredentialFormatError(f"{what} has no validFrom")
    # Five minutes of clock skew: a credential just issued is valid on a clock slightly behind.
    if valid_from > format_datetime(now + CLOCK_SKEW):
        raise CredentialProofError(f"{what} is not valid before {valid_from}")
    valid_until = document.get("validUntil")
    if isinstance(valid_until, str) and valid_until < format_datetime(now - CLOCK_SKEW):
        raise CredentialProofError(f"{what} expired at {valid_until}")


def _proofs(document: Mapping[str, Any], on_pass: OnPass) -> tuple[VerifiedProof, int]:
    outer = verify_proof(document)
    on_pass(f"eddsa-jcs-2022 proof of the credential, by {outer.verification_method}")
    nested = document["credentialSubject"]["verifiableCredential"]
    for position, item in enumerate(nested):
        proof = verify_proof(item)
        if proof.verification_method != outer.verification_method:
            raise CredentialProofError(f"achievement {position} is signed by another key")
        if not isinstance(item, Mapping) or item.get("issuer") != document.get("issuer"):
            raise CredentialProofError(f"achievement {position} names another issuer")
    on_pass(f"eddsa-jcs-2022 proofs of all {len(nested)} achievement credentials")
    return outer, len(nested)


def _log_keys(
    transcript: Mapping[str, Any], trusted: list[NoteVerifier] | None
) -> tuple[list[NoteVerifier], bool]:
    if trusted:
        return trusted, False
    log = transcript.get("log")
    vkey = log.get("verifier_key") if isinstance(log, Mapping) else None
    if not isinstance(vkey, str):
        raise EvidenceError("the transcript names no log key, and none was given")
    try:
        return [NoteVerifier.from_vkey(vkey)], True
    except KeyFormatError as exc:
        raise EvidenceError(f"the transcript's log key is malformed: {exc}") from exc


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise EvidenceError(f"{what} is not a decimal") from exc


def _entry_bodies(transcript: Mapping[str, Any]) -> dict[int, tuple[str, Mapping[str, Any]]]:
    return {
        int(item["index"]): (item["leaf"]["entry"]["type"], item["leaf"]["entry"]["body"])
        for item in transcript["entries"]
    }


def _check_achievement(
    facts: Mapping[str, Any],
    proven: ProvenCredits,
    bodies: dict[int, tuple[str, Mapping[str, Any]]],
    reversed_ids: set[str],
) -> None:
    kind = facts.get("kind")
    if kind == "certificate":
        match = [c for c in proven.certificates if c["index"] == facts.get("index")]
        if (
            not match
            or match[0]["revoked"]
            or any(
                match[0].get(key) != facts.get(key)
                for key in ("certificate_id", "qualification_code", "level", "issued_on")
            )
        ):
            raise EvidenceError(f"certificate {facts.get('certificate_id')!r} is not in evidence")
    elif kind == "credit":
        found = [c for c in proven.credits_earned if c["index"] == facts.get("index")]
        if (
            not found
            or any(
                found[0].get(key) != facts.get(key)
                for key in ("credit_id", "institution", "course_code", "earned_on")
            )
            or _decimal(found[0].get("credits"), "credits")
            != _decimal(facts.get("credits"), "credits")
        ):
            raise EvidenceError(f"credit {facts.get('credit_id')!r} is not in evidence")
    elif kind == "recognition":
        entry_type, body = bodies.get(int(facts.get("conversion_index", -1)), ("", {}))
        lines = [
            r
            for r in body.get("recognitions", [])
            if r.get("course_code") == facts.get("course_code")
            and r.get("mapping_id") == facts.get("mapping_id")
            and _decimal(r.get("credits"), "credits") == _decimal(facts.get("credits"), "credits")
        ]
        if (
            entry_type != "conversion.posted"
            or body.get("conversion_id") != facts.get("conversion_id")
            or body.get("conversion_id") in reversed_ids
            or not lines
        ):
            raise EvidenceError(
                f"recognised course {facts.get('course_code')!r} is not in evidence"
            )
    elif kind == "programme_total":
        proven_total = proven.recognised.get(str(facts.get("programme_code")), Decimal(0))
        if proven_total != _decimal(facts.get("recognised_credits"), "recognised credits"):
            raise EvidenceError(
                f"programme {facts.get('programme_code')!r}: the evidence proves {proven_total}"
            )
    else:
        raise EvidenceError(f"unknown achievement kind {kind!r}")


def _key_registration(
    document: Mapping[str, Any],
    transcript: Mapping[str, Any],
    keys: list[NoteVerifier],
    outer: VerifiedProof,
) -> int:
    """The signing key's ``credential_key.registered`` entry: in the log, signed by the log key."""
    items = [
        item
        for item in document.get("evidence", [])
        if isinstance(item, Mapping) and item.get("genre") == KEY_REGISTRATION_GENRE
    ]
    entry = items[0].get("logEntry") if items else None
    if not isinstance(entry, Mapping):
        raise EvidenceError("the credential does not show its signing key registered on the log")
    try:
        checkpoint = Checkpoint.open(str(transcript["checkpoint"]), keys)
        leaf = Leaf.from_bytes(canonical_bytes(entry["leaf"]))
        hashed = leaf_hash(leaf.data)
        if base64.b64decode(str(entry["leaf_hash"]), validate=True) != hashed:
            raise EvidenceError("the key registration's leaf_hash is not its leaf's hash")
        proof = [base64.b64decode(str(h), validate=True) for h in entry["inclusion_proof"]]
        verify_inclusion(hashed, int(entry["index"]), checkpoint.size, proof, checkpoint.root_hash)
        leaf.signed.verify()
    except (CreditbankError, KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise EvidenceError(f"the key registration does not verify: {exc}") from exc
    log_keys = {public_key_to_b64(key.public_key) for key in keys}
    registered = leaf.entry.body.get("public_key")
    if (
        leaf.entry.type != "credential_key.registered"
        or leaf.entry.actor != "system"
        or leaf.signed.public_key not in log_keys
    ):
        raise EvidenceError(
            "the key registration is not a credential_key.registered by the log key"
        )
    if registered != public_key_to_b64(outer.public_key):
        raise EvidenceError("the log registered another key than the one that signed")
    return int(entry["index"])


def _evidence(
    document: Mapping[str, Any],
    trusted: list[NoteVerifier] | None,
    outer: VerifiedProof,
    on_pass: OnPass,
    key_source: str,
) -> tuple[ProvenCredits, bool]:
    evidence = document.get("evidence")
    transcript = (
        evidence[0].get("transcript")
        if isinstance(evidence, list) and evidence and isinstance(evidence[0], Mapping)
        else None
    )
    if not isinstance(transcript, Mapping):
        raise EvidenceError("the credential carries no transcript as evidence")
    keys, embedded = _log_keys(transcript, trusted)
    try:
        proven = verify_transcript(transcript, keys)
    except CreditbankError as exc:
        raise EvidenceError(f"the evidence transcript does not verify: {exc}") from exc
    where = "named by the transcript itself" if embedded else key_source
    on_pass(
        f"transcript: {proven.entries} entries proven by RFC 9162 inclusion in the checkpoint "
        f"of tree size {proven.tree_size}, signed by the log key ({where})"
    )
    key_index = _key_registration(document, transcript, keys, outer)
    on_pass(f"the signing key was registered on the log by the log key (entry {key_index})")
    subject = document["credentialSubject"]
    if subject.get("id") != learner_subject_id(proven.learner_id):
        raise EvidenceError("the credential's subject is not the transcript's learner")
    bodies = _entry_bodies(transcript)
    reversed_ids = set(proven.reversed_conversions)
    for position, item in enumerate(subject["verifiableCredential"]):
        achievement_subject = item.get("credentialSubject", {})
        if achievement_subject.get("id") != subject.get("id"):
            raise EvidenceError(f"achievement {position} is about another subject")
        facts = achievement_subject.get("creditbank")
        if not isinstance(facts, Mapping):
            raise EvidenceError(f"achievement {position} names no log entry")
        _check_achievement(facts, proven, bodies, reversed_ids)
    on_pass("every achievement matches a log entry of the transcript")
    return proven, embedded


def verify_credential(
    document: Any,
    *,
    now: datetime,
    log_keys: Iterable[NoteVerifier] | None = None,
    status_list: Any = None,
    issuer_methods: Iterable[str] | None = None,
    on_pass: OnPass = lambda _message: None,
    log_key_source: str = "given",
) -> VerifiedCredential:
    """Verify a creditbank ``ClrCredential`` (see the module docstring for what is trusted)."""
    doc = _shape(document)
    on_pass("a W3C VC 2.0 ClrCredential")
    outer, count = _proofs(doc, on_pass)
    _check_times(doc, now, "the credential")
    on_pass(f"valid from {doc['validFrom']}")
    if issuer_methods is not None:
        if outer.verification_method not in set(issuer_methods):
            raise CredentialProofError(
                "the signing key is not an assertionMethod of the issuer's did:web document"
            )
        on_pass("the signing key is listed by the issuer's did:web document")
    trusted = list(log_keys) if log_keys else None
    proven, embedded = _evidence(doc, trusted, outer, on_pass, log_key_source)
    if status_list is not None:
        list_proof = verify_proof(status_list)
        if list_proof.verification_method != outer.verification_method:
            raise CredentialRevokedError("the status list is signed by another key")
        if read_status_bit(doc.get("credentialStatus"), status_list):
            raise CredentialRevokedError(
                "the credential is revoked: its status list bit is set (the learner's history "
                "changed after it was issued)"
            )
        on_pass("status: not revoked (Bitstring Status List bit clear)")
    return VerifiedCredential(
        credential_id=str(doc.get("id")),
        learner_id=proven.learner_id,
        verification_method=outer.verification_method,
        achievements=count,
        proven=proven,
        log_key_from_credential=embedded,
        status_checked=status_list is not None,
    )
