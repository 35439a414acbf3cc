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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from creditbank.errors import CreditbankError, StorageError, TamperError
from creditbank.ledger.entry import Leaf, LearnerLink, SignedEntry
from creditbank.ledger.learner_index import (
    IndexValue,
    LearnerIndex,
    LearnerIndexView,
    learner_key_hash,
)
from creditbank.ledger.merkle import leaf_hash
from creditbank.ledger.store import LeafRow

if TYPE_CHECKING:
    from creditbank.ledger.batch import Appended, Batch

__all__ = [
    "INDEX_ENTRY_TYPE",
    "IndexEntryFactory",
    "LearnerChains",
    "PublishedIndex",
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


@dataclass(frozen=True)
class PublishedIndex:
    """The index as of a committed log size: the view whose root the entry at ``entry_index``
    (the latest index entry, ``None`` if there is none yet) commits to."""

    tree_size: int
    entry_index: int | None
    view: LearnerIndexView


_HISTORY = 256


class LearnerChains:
    """The heads of every learner's chain, in step with the store up to :attr:`synced`.

    One writer thread changes it (inside a log batch) while request threads read published
    versions; a lock orders them, and readers only ever see :attr:`published` snapshots.
    """

    def __init__(
        self, make_index_entry: IndexEntryFactory, on_appended: IndexEntryHook | None = None
    ) -> None:
        self.make_index_entry = make_index_entry
        self.on_appended = on_appended
        self.lock = threading.RLock()
        self.invalidate()

    def invalidate(self) -> None:
        """Forget everything; the next batch (or read) rebuilds from the stored leaves."""
        with self.lock:
            self.index = LearnerIndex()
            self.synced = 0
            self.published: PublishedIndex | None = None
            self._history: OrderedDict[int, LearnerIndexView] = OrderedDict()
            self._last_entry: int | None = None
            self._pending_entry: int | None = None
            self.writing = False

    def _remember(self, entry_index: int) -> None:
        self._last_entry = entry_index
        self._history[entry_index] = self.index.snapshot()
        while len(self._history) > _HISTORY:
            self._history.popitem(last=False)

    def catch_up(self, rows: Callable[[int, int], Iterable[LeafRow]], size: int) -> None:
        """Apply the leaves other writers appended since :attr:`synced` (under the writers' lock)."""
        with self.lock:
            if self.synced > size:
                self.invalidate()
            if self.synced < size:
                replay_chains(
                    rows(self.synced, size),
                    self.index,
                    on_index_entry=lambda position, _body: self._remember(position),
                )
                self.synced = size
            self._publish()

    def _publish(self) -> None:
        view = self._history.get(self._last_entry) if self._last_entry is not None else None
        self.published = PublishedIndex(
            self.synced, self._last_entry, view if view is not None else LearnerIndexView()
        )

    def current(self, rows: Callable[[int, int], Iterable[LeafRow]], size: int) -> PublishedIndex:
        """The newest published index, brought up to ``size`` unless a batch is mid-commit."""
        with self.lock:
            if not self.writing and (self.published is None or self.published.tree_size < size):
                self.catch_up(rows, size)
            if self.published is None:
                raise StorageError("the learner index is being rebuilt; try again")
            return self.published

    def view_at(
        self, entry_index: int, rows: Callable[[int, int], Iterable[LeafRow]]
    ) -> LearnerIndexView:
        """The index as the entry at ``entry_index`` committed it (rebuilt if not remembered)."""
        with self.lock:
            found = self._history.get(entry_index)
        if found is not None:
            return found
        rebuilt = LearnerIndex()
        replay_chains(rows(0, entry_index), rebuilt)
        return rebuilt.snapshot()

    def head(self, learner: str, staged: Mapping[str, IndexValue]) -> IndexValue | None:
        found = staged.get(learner)
        return found if found is not None else self.index.get(learner)

    def commit(self, staged: Mapping[str, IndexValue]) -> bytes:
        """Apply a batch's staged heads to the index; return the new root (writer, in a batch)."""
        with self.lock:
            self.writing = True
            for learner, value in staged.items():
                self.index.set(learner_key_hash(learner), value)
            return self.index.root()

    def appended_entry(self, entry_index: int) -> None:
        self._pending_entry = entry_index

    def committed(self, size: int) -> None:
        """The batch's transaction committed at ``size``: publish what it did."""
        with self.lock:
            if self._pending_entry is not None:
                self._remember(self._pending_entry)
                self._pending_entry = None
            self.synced = size
            self.writing = False
            self._publish()


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
