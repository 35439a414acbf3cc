"""Prove a transcript is complete: every entry about the learner up to tree size T, in order.

Three things tie a learner's history down, all checkable from the bundle alone:

* each entry about the learner carries, in its leaf, a link ``(learner, seq, prev)`` that the log
  added at integration (``prev`` is the leaf hash of the learner's previous entry);
* a ``ledger.learner_index`` entry, signed by the system actor and included in the checkpoint,
  commits to the root of the learner index as of the first T entries;
* a map proof shows the learner's value under that root: ``(count, head index, head leaf hash)``.

So the bundle's entries must be exactly seq 1..count, each linking to the one before, the last
being the head. A removed, reordered, duplicated or substituted entry breaks one of these and the
error says which entry and how.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from creditbank.errors import ProofError
from creditbank.ledger.chain import INDEX_ENTRY_TYPE
from creditbank.ledger.entry import Leaf
from creditbank.ledger.learner_index import IndexValue, MapProof, verify_map_proof
from creditbank.ledger.merkle import leaf_hash

__all__ = ["Completeness", "check_chain", "check_index_entry"]

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Completeness:
    """What the index entry and map proof establish about the learner."""

    entry_index: int
    tree_size: int  # the entries the index entry covers: 0 .. tree_size - 1
    root: bytes
    value: IndexValue | None


def check_index_entry(
    index: int, leaf: Leaf, learner_id: str, doc: Mapping[str, Any]
) -> Completeness:
    """Check the index entry's shape and the learner's map proof against its root."""
    entry = leaf.entry
    if entry.type != INDEX_ENTRY_TYPE or entry.actor != SYSTEM_ACTOR:
        raise ProofError(f"entry {index} is not a learner index entry signed by the system actor")
    body = entry.body
    size = body.get("tree_size")
    if not isinstance(size, int) or isinstance(size, bool) or size != index:
        raise ProofError(f"index entry {index} does not cover exactly the entries before it")
    try:
        root = base64.b64decode(str(body.get("root")), validate=True)
    except ValueError as exc:
        raise ProofError(f"index entry {index}: root is not base64") from exc
    raw_value = doc.get("value")
    value = None if raw_value is None else IndexValue.from_json(raw_value)
    verify_map_proof(root, learner_id, value, MapProof.from_json(doc.get("map_proof")))
    return Completeness(index, size, root, value)


def check_chain(learner_id: str, entries: Sequence[tuple[int, Leaf]], proven: Completeness) -> None:
    """``entries``: the bundle's entries in bundle order. Raise naming the first thing wrong."""
    chained: list[tuple[int, Leaf]] = []
    last = -1
    for index, leaf in entries:
        link = leaf.chain
        if link is None:
            if leaf.entry.body.get("learner_id") == learner_id:
                raise ProofError(
                    f"entry {index} is about {learner_id} but carries no chain link: "
                    "it cannot be proven part of the learner's history"
                )
            continue
        if link.learner != learner_id:
            raise ProofError(
                f"entry {index} belongs to learner {link.learner}'s history, not {learner_id}'s: "
                "an entry was substituted"
            )
        if index <= last:
            raise ProofError(f"entry {index} is out of order: it comes after entry {last}")
        if index >= proven.tree_size:
            raise ProofError(
                f"entry {index} is beyond the {proven.tree_size} entries the index entry covers"
            )
        last = index
        chained.append((index, leaf))
    _walk(learner_id, chained, proven)


def _walk(learner_id: str, chained: list[tuple[int, Leaf]], proven: Completeness) -> None:
    value = proven.value
    if value is None:
        if chained:
            raise ProofError(
                f"the index shows no entries of {learner_id} as of tree size "
                f"{proven.tree_size}, but the transcript has {len(chained)}"
            )
        return
    previous: tuple[int, bytes] | None = None
    for position, (index, leaf) in enumerate(chained, start=1):
        link = leaf.chain
        assert link is not None
        if link.seq < position:
            raise ProofError(f"entry {index} repeats seq {link.seq} of {learner_id}: a duplicate")
        if link.seq > position:
            after = f"after entry {previous[0]}" if previous else "at the start"
            raise ProofError(
                f"{link.seq - position} entry(ies) of {learner_id} are missing {after} "
                f"(entry {index} has seq {link.seq}, expected {position})"
            )
        if previous is not None and link.prev != previous[1]:
            raise ProofError(
                f"entry {index} does not follow entry {previous[0]} in {learner_id}'s chain: "
                "an entry was substituted"
            )
        previous = (index, leaf_hash(leaf.data))
    if len(chained) > value.count:
        raise ProofError(
            f"the index shows {value.count} entries of {learner_id} as of tree size "
            f"{proven.tree_size}; the transcript has {len(chained)}"
        )
    if len(chained) != value.count:
        after = f"after entry {previous[0]}" if previous else ""
        raise ProofError(
            f"the index shows {value.count} entries of {learner_id} as of tree size "
            f"{proven.tree_size}; the transcript has {len(chained)}: "
            f"{value.count - len(chained)} missing {after}".rstrip()
        )
    assert previous is not None
    if previous != (value.head_index, value.head_leaf_hash):
        raise ProofError(
            f"the transcript's last entry {previous[0]} is not {learner_id}'s last entry as of "
            f"tree size {proven.tree_size} (the index says entry {value.head_index})"
        )
