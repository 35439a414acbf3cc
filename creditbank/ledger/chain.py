"""Per-learner history chains and the learner index, as the log maintains them while appending.

The log (not the client) links each entry about a learner to that learner's previous entry, since
only the log knows positions. It keeps every learner's head in a :class:`LearnerIndex` in memory;
each writer process brings its copy up to date from the stored leaves when it takes the writers'
lock (other processes may have appended), and a stored leaf whose link does not continue its
learner's chain is refused as tampering. When a batch changed the index, the log appends one more
entry, signed by the system actor, committing to the new root: ``ledger.learner_index`` with body
``{"v": 1, "tree_size": N, "root": base64, "learners": count}``, where N is the number of entries
before it (all of which the root covers).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from creditbank.errors import CreditbankError, TamperError
from creditbank.ledger.entry import Leaf, LearnerLink, SignedEntry
from creditbank.ledger.learner_index import IndexValue, LearnerIndex, learner_key_hash
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.store import LeafRow

if TYPE_CHECKING:
    from creditbank.ledger.log import Appended, Batch

__all__ = [
    "INDEX_ENTRY_TYPE",
    "IndexEntryFactory",
    "LearnerChains",
    "index_entry_body",
    "link_after",
    "replay_chains",
]

INDEX_ENTRY_TYPE = "ledger.learner_index"

#: Makes the system-signed index entry from its body, at the batch's time.
IndexEntryFactory = Callable[[dict[str, Any], datetime], SignedEntry]
#: Lets the owner of the log project the index entry in the batch's own transaction.
IndexEntryHook = Callable[["Batch", "Appended"], None]


def index_entry_body(tree_size: int, root: bytes, learners: int) -> dict[str, Any]:
    return {
        "v": 1,
        "tree_size": tree_size,
        "root": base64.b64encode(root).decode("ascii"),
        "learners": learners,
    }


def link_after(learner: str, head: IndexValue | None) -> LearnerLink:
    """The link of a learner's next entry, given its current head."""
    if head is None:
        return LearnerLink(learner, 1, None)
    return LearnerLink(learner, head.count + 1, head.head_leaf_hash)


def _check_link(index: int, link: LearnerLink, head: IndexValue | None) -> None:
    expected = link_after(link.learner, head)
    if link != expected:
        raise TamperError(
            f"entry {index}: learner {link.learner}'s chain breaks (seq {link.seq}, expected "
            f"{expected.seq}, or its previous-leaf hash is not the learner's last entry)",
            index=index,
        )


def replay_chains(
    rows: Iterable[LeafRow],
    index: LearnerIndex,
    *,
    on_index_entry: Callable[[int, Mapping[str, Any]], None] | None = None,
) -> int:
    """Apply stored leaves to ``index``, checking every link; return the next position.

    ``on_index_entry(position, body)`` sees each index entry *before* the entries after it are
    applied, so a caller can compare its root with ``index.root()``.
    """
    position = -1
    for row in rows:
        position = row.index
        if b'"chain":' not in row.data and INDEX_ENTRY_TYPE.encode() not in row.data:
            continue  # neither chained nor an index entry: nothing to do (fast path)
        try:
            leaf = Leaf.from_bytes(row.data)
        except CreditbankError as exc:
            raise TamperError(f"entry {row.index}: {exc}", index=row.index) from None
        if leaf.chain is not None:
            _check_link(row.index, leaf.chain, index.get(leaf.chain.learner))
            index.record(leaf.chain.learner, row.index, leaf_hash(row.data))
        elif leaf.entry.type == INDEX_ENTRY_TYPE and on_index_entry is not None:
            on_index_entry(row.index, leaf.entry.body)
    return position + 1


class LearnerChains:
    """The heads of every learner's chain, in step with the store up to :attr:`synced`."""

    def __init__(
        self, make_index_entry: IndexEntryFactory, on_appended: IndexEntryHook | None = None
    ) -> None:
        self.make_index_entry = make_index_entry
        self.on_appended = on_appended
        self.index = LearnerIndex()
        self.synced = 0

    def catch_up(self, rows: Callable[[int, int], Iterable[LeafRow]], size: int) -> None:
        """Apply the leaves other writers appended since :attr:`synced` (under the writers' lock)."""
        if self.synced > size:
            self.invalidate()
        if self.synced < size:
            replay_chains(rows(self.synced, size), self.index)
            self.synced = size

    def invalidate(self) -> None:
        """Forget everything; the next batch rebuilds from the stored leaves."""
        self.index = LearnerIndex()
        self.synced = 0

    def head(self, learner: str, staged: Mapping[str, IndexValue]) -> IndexValue | None:
        found = staged.get(learner)
        return found if found is not None else self.index.get(learner)

    def commit(self, staged: Mapping[str, IndexValue]) -> bytes:
        """Apply a batch's staged heads to the index; return the new root."""
        for learner, value in staged.items():
            self.index.set(learner_key_hash(learner), value)
        return self.index.root()


#: ``(index, learner, seq, prev, leaf hash)`` for a chained leaf, or
#: ``(index, None, covered tree size, committed root, b"")`` for an index entry.
ChainEvent = tuple[int, str | None, int, bytes | None, bytes]


def chain_event(index: int, leaf: Leaf, hashed: bytes) -> ChainEvent | None:
    """What the audit must check in order about this leaf (picklable, for worker processes)."""
    if leaf.chain is not None:
        return (index, leaf.chain.learner, leaf.chain.seq, leaf.chain.prev, hashed)
    if leaf.entry.type != INDEX_ENTRY_TYPE:
        return None
    body = leaf.entry.body
    size, root = body.get("tree_size"), body.get("root")
    try:
        raw = base64.b64decode(root, validate=True) if isinstance(root, str) else b""
    except ValueError:
        raw = b""
    if not isinstance(size, int) or isinstance(size, bool) or len(raw) != 32:
        raise TamperError(f"entry {index}: a malformed learner index entry", index=index)
    return (index, None, size, raw, b"")


class ChainAudit:
    """Rebuild every learner chain and the index from the log; check each committed root."""

    def __init__(self) -> None:
        self.index = LearnerIndex()
        self.index_entries = 0

    def apply(self, events: Iterable[ChainEvent]) -> None:
        for index, learner, seq, prev, hashed in events:
            if learner is not None:
                _check_link(index, LearnerLink(learner, seq, prev), self.index.get(learner))
                self.index.record(learner, index, hashed)
                continue
            if seq != index:
                raise TamperError(
                    f"index entry {index} claims to cover {seq} entries; it covers {index}",
                    index=index,
                )
            if prev != self.index.root():
                raise TamperError(
                    f"index entry {index}: its root is not the learner index rebuilt from "
                    f"entries 0..{index - 1}",
                    index=index,
                )
            self.index_entries += 1
