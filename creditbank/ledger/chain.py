"""Per-learner history chains and the learner index, as the log maintains them while appending.

The log (not the client) links each entry about a learner to that learner's previous entry, since
only the log knows positions. It keeps every learner's head in a :class:`LearnerIndex` in memory;
each writer process brings its copy up to date from the stored leaves when it takes the writers'
lock (other processes may have appended). It does so from the stored heads, not the leaves: the
batch that moves a head writes it (:class:`~creditbank.ledger.store.LearnerHead`) in its own
transaction, so a process starting on a big log loads O(learners) rows, and one catching up reads
only the heads that moved since. The heads are a cache, so they are checked: the index they make
must have the root the latest index entry (signed, in the log) commits to, or the log refuses to
append (:class:`TamperError`); ``creditbank verify`` rebuilds the index from the leaves alone and
compares every stored head (:func:`check_stored_heads`), naming the learner whose row is wrong.

When a batch changed the index, the log appends one more entry, signed by the system actor,
committing to the new root: ``ledger.learner_index`` with body ``{"v": 1, "tree_size": N, "root":
base64, "learners": count}``, where N is the number of entries before it (all of which the root
covers).
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
from creditbank.ledger.store import LeafRow, LearnerHead

if TYPE_CHECKING:
    from creditbank.ledger.batch import Appended, Batch

__all__ = [
    "INDEX_ENTRY_TYPE",
    "IndexEntryFactory",
    "LearnerChains",
    "PublishedIndex",
    "check_stored_heads",
    "derive_heads",
    "index_entry_body",
    "link_after",
    "replay_chains",
]

INDEX_ENTRY_TYPE = "ledger.learner_index"

#: Makes the system-signed index entry from its body, at the batch's time.
IndexEntryFactory = Callable[[dict[str, Any], datetime], SignedEntry]
#: Lets the owner of the log project the index entry in the batch's own transaction.
IndexEntryHook = Callable[["Batch", "Appended"], None]
#: ``rows(start, end)``: stored leaves; ``heads(since)``: stored heads with head index >= since.
RowsReader = Callable[[int, int], Iterable[LeafRow]]
HeadsReader = Callable[[int], list[LearnerHead]]


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

    def catch_up(self, rows: RowsReader, heads: HeadsReader, size: int) -> None:
        """Apply the heads other writers moved since :attr:`synced` (under the writers' lock)."""
        with self.lock:
            if self.synced > size:
                self.invalidate()
            if self.synced < size:
                self._load_heads(rows, heads, size)
            self._publish()

    def _load_heads(self, rows: RowsReader, heads: HeadsReader, size: int) -> None:
        """Read the moved heads (one statement, so a consistent set), apply them, and check the
        root against the index entry their batch appended. ``size`` may be older than the heads
        read (a reader does not hold the lock): the index entry then says how far they go."""
        moved = heads(self.synced)
        if not moved:
            self.synced = size
            return
        for head in moved:
            self.index.set(learner_key_hash(head.learner), head.value)
        top = max(head.value.head_index for head in moved)
        position, committed = _index_entry_after(rows, top)
        if committed != self.index.root():
            self.invalidate()
            raise TamperError(
                f"the stored learner heads do not make the root that index entry {position} "
                "commits to: the log-learner-heads table was altered or is stale; run "
                "`creditbank verify`, which names the learner",
                index=position,
            )
        self._remember(position)
        self.synced = max(size, position + 1)

    def _publish(self) -> None:
        view = self._history.get(self._last_entry) if self._last_entry is not None else None
        self.published = PublishedIndex(
            self.synced, self._last_entry, view if view is not None else LearnerIndexView()
        )

    def current(self, rows: RowsReader, heads: HeadsReader, size: int) -> PublishedIndex:
        """The newest published index, brought up to ``size`` unless a batch is mid-commit."""
        with self.lock:
            if not self.writing and (self.published is None or self.published.tree_size < size):
                self.catch_up(rows, heads, size)
            if self.published is None:
                raise StorageError("the learner index is being rebuilt; try again")
            return self.published

    def view_at(self, entry_index: int, rows: RowsReader) -> LearnerIndexView:
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


def _index_entry_after(rows: RowsReader, top: int) -> tuple[int, bytes]:
    """Position and committed root of the first index entry after ``top``: the one appended by
    the batch whose chained entry ``top`` was (a batch's index entry is its last entry)."""
    start, page = top + 1, 256
    while True:
        found = False
        for row in rows(start, start + page):
            found = True
            if row.entry_type == INDEX_ENTRY_TYPE:
                event = chain_event(row.index, Leaf.from_bytes(row.data), b"")
                assert event is not None and event[3] is not None
                return row.index, event[3]
        if not found:
            raise TamperError(
                f"a stored learner head points at entry {top}, but no index entry follows it",
                index=top,
            )
        start += page


def derive_heads(rows: Iterable[LeafRow]) -> dict[str, IndexValue]:
    """Every learner's head, replayed from the leaves with every link checked (what migration 0007
    fills the heads table with from an existing log)."""
    heads: dict[str, IndexValue] = {}
    for row in rows:
        if b'"chain":' not in row.data:
            continue
        try:
            leaf = Leaf.from_bytes(row.data)
        except CreditbankError as exc:
            raise TamperError(f"entry {row.index}: {exc}", index=row.index) from None
        link = leaf.chain
        if link is not None:
            old = heads.get(link.learner)
            _check_link(row.index, link, old)
            heads[link.learner] = IndexValue(link.seq, row.index, leaf_hash(row.data))
    return heads


def check_stored_heads(
    derived: Mapping[bytes, IndexValue],
    names: Mapping[bytes, str],
    stored: list[LearnerHead],
    size: int,
) -> None:
    """Raise :class:`TamperError` naming the first learner whose stored head is not the one
    rebuilt from the leaves ``0..size-1`` (``derived``: key hash -> value). Heads that moved at
    or beyond ``size`` (an append during the audit) cannot be judged and are skipped."""
    seen: set[bytes] = set()
    for head in sorted(stored, key=lambda h: h.learner):
        key = learner_key_hash(head.learner)
        seen.add(key)
        if head.value.head_index >= size:
            continue
        want = derived.get(key)
        if want is None:
            raise TamperError(
                f"learner heads: a row for learner {head.learner}, who has no entry in the log"
            )
        for column, got, expected in (
            ("count", head.value.count, want.count),
            ("head_index", head.value.head_index, want.head_index),
            ("head_leaf_hash", head.value.head_leaf_hash.hex(), want.head_leaf_hash.hex()),
        ):
            if got != expected:
                raise TamperError(
                    f"learner heads: learner {head.learner}'s {column} is {got} in the table, "
                    f"{expected} rebuilt from the log",
                    index=want.head_index,
                )
    for key, value in derived.items():
        if key not in seen:
            raise TamperError(
                f"learner heads: learner {names.get(key, key.hex())} has entries in the log "
                f"(the last at {value.head_index}) but no row in the table",
                index=value.head_index,
            )


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
        #: Key hash -> learner key, so a check of the stored heads can name a missing learner.
        self.names: dict[bytes, str] = {}

    def apply(self, events: Iterable[ChainEvent]) -> None:
        for index, learner, seq, prev, hashed in events:
            if learner is not None:
                _check_link(index, LearnerLink(learner, seq, prev), self.index.get(learner))
                if self.index.record(learner, index, hashed).count == 1:
                    self.names[learner_key_hash(learner)] = learner
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

    def check_stored(self, stored: list[LearnerHead], size: int) -> None:
        """Compare the heads table with the index rebuilt here (see :func:`check_stored_heads`)."""
        check_stored_heads(dict(self.index.items()), self.names, stored, size)
