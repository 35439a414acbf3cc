"""Is a transcript still current? "True then, still true now" versus "true then, changed since".

Given a verified v2 transcript (complete as of tree size T, checkpoint N) and what the log serves
now (its latest checkpoint M, a consistency proof from N to M, the learner's index entry, map proof
and the entries added since), this checks that the log only grew since N, that the index entry is
in it and signed by the system actor, and that the new entries continue the learner's chain from
the transcript's head to today's. Nothing the server says is taken on trust.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from creditbank.accounts.completeness import check_index_entry
from creditbank.errors import EntryFormatError, ProofError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.entry import Leaf
from creditbank.ledger.learner_index import IndexValue
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.merkle_verify import verify_consistency, verify_inclusion

__all__ = ["Currency", "check_currency"]


@dataclass(frozen=True)
class Currency:
    learner_id: str
    then_size: int
    now_size: int
    then_count: int
    now_count: int
    new_types: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.now_count != self.then_count


def _hashes(items: Any, what: str) -> list[bytes]:
    if not isinstance(items, list):
        raise EntryFormatError(f"{what} must be a list")
    try:
        return [base64.b64decode(h, validate=True) for h in items]
    except (binascii.Error, ValueError, TypeError) as exc:
        raise EntryFormatError(f"{what} is not base64") from exc


def _included(item: Any, checkpoint: Checkpoint) -> tuple[int, Leaf]:
    if not isinstance(item, Mapping) or not isinstance(item.get("index"), int):
        raise EntryFormatError("an entry must have an index, a leaf and an inclusion proof")
    index = item["index"]
    leaf = Leaf.from_bytes(canonical_bytes(item.get("leaf")))
    verify_inclusion(
        leaf_hash(leaf.data),
        index,
        checkpoint.size,
        _hashes(item.get("inclusion_proof"), "inclusion_proof"),
        checkpoint.root_hash,
    )
    leaf.signed.verify()
    return index, leaf


def check_currency(
    bundle: Mapping[str, Any],
    then_value: IndexValue | None,
    now: Mapping[str, Any],
    consistency: Sequence[str],
    trusted: Sequence[NoteVerifier],
) -> Currency:
    """``now`` is the learner-index route's answer; ``consistency`` the proof from the bundle's
    checkpoint to ``now``'s. Raise a VerificationError if anything does not check out."""
    learner_id = str(bundle["learner_id"])
    then = Checkpoint.open(str(bundle["checkpoint"]), trusted)
    latest = Checkpoint.open(str(now.get("checkpoint")), trusted, origin=then.origin)
    if latest.size < then.size:
        raise ProofError(f"the log now shows {latest.size} entries, fewer than {then.size}")
    verify_consistency(
        then.size,
        latest.size,
        then.root_hash,
        latest.root_hash,
        _hashes(list(consistency), "proof"),
    )
    position, index_leaf = _included(now.get("index_entry"), latest)
    proven = check_index_entry(position, index_leaf, learner_id, now)
    before = then_value.count if then_value else 0
    count = proven.value.count if proven.value else 0
    if count < before:
        raise ProofError(
            f"the index now shows {count} entries of {learner_id}, fewer than {before}"
        )
    head = then_value.head_leaf_hash if then_value else None
    types: Counter[str] = Counter()
    added = 0
    entries = now.get("entries")
    if not isinstance(entries, list):
        raise EntryFormatError("entries must be a list")
    for item in entries:
        index, leaf = _included(item, latest)
        link = leaf.chain
        if (
            link is None
            or link.learner != learner_id
            or link.seq != before + len(types.values()) + 1
        ):
            raise ProofError(f"entry {index} does not continue {learner_id}'s chain")
        if link.prev != head:
            raise ProofError(f"entry {index} does not follow the transcript's last entry")
        head = leaf_hash(leaf.data)
        types[leaf.entry.type] += 1
        added += 1
    if before + added != count or (
        proven.value is not None and head != proven.value.head_leaf_hash
    ):
        raise ProofError(
            f"the server's entries since the transcript do not reach {learner_id}'s current head"
        )
    return Currency(learner_id, then.size, latest.size, before, count, dict(types))
