"""Verifying transcripts offline: signatures, key ownership, inclusion, completeness, witnesses.

Split from :mod:`creditbank.accounts.transcript` (which builds bundles) so that a checker needs
nothing of the database: :func:`verify_transcript` takes the bundle and the keys it trusts.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from creditbank.accounts.completeness import Completeness, check_chain, check_index_entry
from creditbank.accounts.kinds.actor_key_recovered import DEFAULT_DELAY_DAYS, usable_from
from creditbank.errors import (
    CheckpointError,
    CreditbankError,
    EntryFormatError,
    ProofError,
    SignatureError,
)
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.cosignature import CosignerVerifier, verify_cosignatures
from creditbank.ledger.entry import Leaf, format_time, key_id_of, parse_time
from creditbank.ledger.learner_index import IndexValue
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.merkle_verify import verify_consistency, verify_inclusion

__all__ = ["TRANSCRIPT_FORMAT", "TRANSCRIPT_V1", "ProvenCredits", "verify_transcript"]

TRANSCRIPT_V1 = "creditbank-transcript/v1"
TRANSCRIPT_FORMAT = "creditbank-transcript/v2"
_ACTOR_TYPES = (
    "actor.registered",
    "actor.key_added",
    "actor.key_revoked",
    "actor.key_recovered",
    "actor.key_recovery_cancelled",
)
_ADDS_KEY = ("actor.registered", "actor.key_added", "actor.key_recovered")
_ENDS_KEY = ("actor.key_revoked", "actor.key_recovery_cancelled")


@dataclass(frozen=True)
class ProvenCredits:
    """What a transcript proves, once verified."""

    learner_id: str
    tree_size: int
    entries: int
    certificates: list[dict[str, Any]] = field(default_factory=list)
    credits_earned: list[dict[str, Any]] = field(default_factory=list)
    recognised: dict[str, Decimal] = field(default_factory=dict)
    reversed_conversions: list[str] = field(default_factory=list)
    #: Every entry about the learner up to this tree size is in the bundle (None: not proven).
    complete_as_of: int | None = None
    #: Names of the witnesses whose cosignatures were required and verified.
    witnessed_by: list[str] = field(default_factory=list)
    #: The learner's index value the completeness proof showed (for the currency check).
    index_value: IndexValue | None = None
    #: Entries signed under a key an admin recovered (``actor.key_recovered``), each as
    #: ``{"index", "actor", "key_id", "recovered_by"}``: valid, but the operator chose that key.
    recovered_signatures: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total_recognised(self) -> Decimal:
        return sum(self.recognised.values(), Decimal(0))


def _decode(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise EntryFormatError(f"{what} is not base64") from exc


def _require(obj: Any, keys: Iterable[str], what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping) or any(k not in obj for k in keys):
        raise EntryFormatError(f"{what} must be an object with {', '.join(keys)}")
    return obj


def verify_transcript(
    bundle: Any,
    trusted: Iterable[NoteVerifier],
    *,
    witnesses: Sequence[CosignerVerifier] = (),
    threshold: int | None = None,
) -> ProvenCredits:
    """Verify every entry's signature, key ownership and inclusion, and (v2) completeness;
    return what it proves. With ``witnesses``, also require ``threshold`` (default: all) of
    their cosignatures on a checkpoint the bundle's checkpoint is consistent with.

    Raises a :class:`~creditbank.errors.VerificationError` (or ``EntryFormatError`` for a bundle
    that is not even shaped like a transcript) at the first thing that does not check out.
    """
    trusted = list(trusted)
    doc = _require(bundle, ("format", "learner_id", "checkpoint", "entries"), "transcript")
    if doc["format"] not in (TRANSCRIPT_FORMAT, TRANSCRIPT_V1):
        raise EntryFormatError(f"not a {TRANSCRIPT_FORMAT} (or v1) document")
    checkpoint = Checkpoint.open(str(doc["checkpoint"]), trusted)
    learner_id = doc["learner_id"]
    if not isinstance(learner_id, str) or not learner_id:
        raise EntryFormatError("the transcript's learner_id must be a non-empty string")
    if not isinstance(doc["entries"], list):
        raise EntryFormatError("transcript entries must be a list")
    in_order: list[tuple[int, Leaf]] = []
    seen: set[int] = set()
    for position, raw in enumerate(doc["entries"]):
        index, leaf = _proven_leaf(raw, f"entries[{position}]", checkpoint)
        if index in seen:
            # Counted once per appearance below: a repeated entry would prove its credits twice.
            raise EntryFormatError(f"entry {index} appears twice in the transcript")
        seen.add(index)
        in_order.append((index, leaf))
    witnessed_by = _check_witnesses(doc, checkpoint, trusted, witnesses, threshold)
    complete_as_of: int | None = None
    index_value: IndexValue | None = None
    completeness = doc.get("completeness") if doc["format"] == TRANSCRIPT_FORMAT else None
    if completeness is not None:
        proven = _check_completeness(learner_id, completeness, dict(in_order), in_order)
        complete_as_of, index_value = proven.tree_size, proven.value
    leaves = sorted(in_order, key=lambda pair: pair[0])
    summary = _summarise(learner_id, checkpoint.size, leaves)
    claimed = doc.get("recovered_signatures", []) if doc["format"] == TRANSCRIPT_FORMAT else []
    if claimed != summary.recovered_signatures:
        raise ProofError(
            "the bundle's recovered_signatures do not match its entries: entries "
            f"{[s['index'] for s in summary.recovered_signatures]} are signed under recovered keys"
        )
    return replace(
        summary,
        complete_as_of=complete_as_of,
        witnessed_by=witnessed_by,
        index_value=index_value,
    )


def _proven_leaf(raw: Any, what: str, checkpoint: Checkpoint) -> tuple[int, Leaf]:
    item = _require(raw, ("index", "leaf", "leaf_hash", "inclusion_proof"), what)
    index = item["index"]
    if not isinstance(index, int) or isinstance(index, bool):
        raise EntryFormatError(f"{what}.index must be an integer")
    try:
        leaf = Leaf.from_bytes(canonical_bytes(item["leaf"]))
    except CreditbankError as exc:
        raise EntryFormatError(f"entry {index}: {exc}") from exc
    hashed = leaf_hash(leaf.data)
    if _decode(item["leaf_hash"], f"entry {index} leaf_hash") != hashed:
        raise ProofError(f"entry {index}: leaf_hash is not the hash of the leaf")
    proof = item["inclusion_proof"]
    if not isinstance(proof, list):
        raise EntryFormatError(f"entry {index}: inclusion_proof must be a list")
    try:
        verify_inclusion(
            hashed,
            index,
            checkpoint.size,
            [_decode(p, f"entry {index} proof") for p in proof],
            checkpoint.root_hash,
        )
    except ProofError as exc:
        raise ProofError(f"entry {index}: {exc}") from None
    leaf.signed.verify()
    return index, leaf


def _check_completeness(
    learner_id: str,
    completeness: Any,
    by_index: dict[int, Leaf],
    in_order: list[tuple[int, Leaf]],
) -> Completeness:
    doc = _require(completeness, ("index_entry", "value", "map_proof"), "completeness")
    entry_index = doc["index_entry"]
    leaf = by_index.get(entry_index) if isinstance(entry_index, int) else None
    if leaf is None:
        raise EntryFormatError("completeness.index_entry must name an entry of the bundle")
    proven = check_index_entry(entry_index, leaf, learner_id, doc)
    check_chain(learner_id, [pair for pair in in_order if pair[0] != entry_index], proven)
    return proven


def _check_witnesses(
    doc: Mapping[str, Any],
    checkpoint: Checkpoint,
    trusted: list[NoteVerifier],
    witnesses: Sequence[CosignerVerifier],
    threshold: int | None,
) -> list[str]:
    if not witnesses:
        return []
    witnessed = doc.get("witnessed")
    if witnessed is None:
        raise CheckpointError("the transcript carries no witness-cosigned checkpoint")
    witnessed = _require(witnessed, ("checkpoint", "consistency_proof"), "witnessed")
    note = str(witnessed["checkpoint"])
    cosigned = Checkpoint.open(note, trusted, origin=checkpoint.origin)
    found = verify_cosignatures(
        note, witnesses, threshold=len(witnesses) if threshold is None else threshold
    )
    proof = witnessed["consistency_proof"]
    if not isinstance(proof, list):
        raise EntryFormatError("witnessed.consistency_proof must be a list")
    verify_consistency(
        cosigned.size,
        checkpoint.size,
        cosigned.root_hash,
        checkpoint.root_hash,
        [_decode(p, "witnessed consistency proof") for p in proof],
    )
    return [c.witness.name for c in found]


def _recovered_use(
    index: int, leaf: Leaf, recovery: tuple[int, str] | None
) -> dict[str, Any] | None:
    """The flag for an entry signed under a recovered key; refused if signed before its delay."""
    if recovery is None:
        return None
    claimed = format_time(parse_time(leaf.entry.claimed_at, "entry.claimed_at"))
    if leaf.integrated_at < recovery[1] or claimed < recovery[1]:
        raise SignatureError(
            f"entry {index}: signed with key {leaf.signed.key_id} recovered at entry "
            f"{recovery[0]} before the key was usable ({recovery[1]})"
        )
    return {
        "index": index,
        "actor": leaf.entry.actor,
        "key_id": leaf.signed.key_id,
        "recovered_by": recovery[0],
    }


def _summarise(learner_id: Any, size: int, leaves: list[tuple[int, Leaf]]) -> ProvenCredits:
    keys: dict[str, tuple[str, int | None]] = {}  # key id -> (actor, revoked at index)
    recovered: dict[str, tuple[int, str]] = {}  # key id -> (recovery index, usable from)
    proven = ProvenCredits(learner_id=str(learner_id), tree_size=size, entries=len(leaves))
    conversions: dict[str, tuple[str, Decimal]] = {}
    for index, leaf in leaves:
        entry, body = leaf.entry, leaf.entry.body
        if entry.type in _ADDS_KEY:
            keys[key_id_of(body["public_key"])] = (body["actor_id"], None)
        elif entry.type in _ENDS_KEY and body.get("key_id") in keys:
            keys[body["key_id"]] = (keys[body["key_id"]][0], index)
        if entry.type == "actor.key_recovered":
            delay = body.get("delay_days", DEFAULT_DELAY_DAYS)
            recovered[key_id_of(body["public_key"])] = (
                index,
                usable_from(leaf.integrated_at, delay),
            )
        flag = _recovered_use(index, leaf, recovered.get(leaf.signed.key_id))
        if flag is not None:
            proven.recovered_signatures.append(flag)
        owner = keys.get(leaf.signed.key_id)
        genesis = index == 0 and entry.type == "actor.registered" and body.get("role") == "system"
        if not genesis and (owner is None or owner[0] != entry.actor):
            raise SignatureError(
                f"entry {index}: key {leaf.signed.key_id} is not shown to belong to {entry.actor}"
            )
        if owner is not None and owner[1] is not None and owner[1] < index:
            raise SignatureError(f"entry {index}: signed with a key revoked at entry {owner[1]}")
        if entry.type in _ACTOR_TYPES:
            continue
        if body.get("learner_id", learner_id) != learner_id and entry.type != "conversion.reversed":
            raise EntryFormatError(f"entry {index} concerns another learner")
        if entry.type == "certificate.issued":
            proven.certificates.append({**body, "index": index, "revoked": False})
        elif entry.type == "certificate.revoked":
            for cert in proven.certificates:
                if cert["certificate_id"] == body["certificate_id"]:
                    cert["revoked"] = True
        elif entry.type == "credit.earned":
            proven.credits_earned.append({**body, "index": index})
        elif entry.type == "conversion.posted":
            total = sum((Decimal(r["credits"]) for r in body["recognitions"]), Decimal(0))
            conversions[body["conversion_id"]] = (body["programme_code"], total)
        elif entry.type == "conversion.reversed" and body["conversion_id"] in conversions:
            del conversions[body["conversion_id"]]
            proven.reversed_conversions.append(body["conversion_id"])
    for programme, total in conversions.values():
        proven.recognised[programme] = proven.recognised.get(programme, Decimal(0)) + total
    return proven
