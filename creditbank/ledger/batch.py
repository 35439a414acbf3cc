"""One append in progress: :class:`Batch` stages signed entries under the writers' lock.

A batch verifies each entry's signature (on a thread pool when the batch is large), wraps it into
its leaf, links it into its learner's chain, extends a copy of the compact Merkle range and keeps
the leaf rows and new tree nodes until :meth:`~creditbank.ledger.log.Log.batch` ends: then the
log writes them with one signed checkpoint, in the store's transaction. :meth:`Batch.attempt`
undoes whatever was staged inside it, so a caller can let one submission fail alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from creditbank.errors import DuplicateNonceError, StorageError
from creditbank.ledger.chain import LearnerChains, index_entry_body, link_after
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner
from creditbank.ledger.entry import Leaf, SignedEntry, format_time
from creditbank.ledger.learner_index import IndexValue
from creditbank.ledger.merkle import (
    CompactRange,
    NodeId,
    leaf_hash,
)
from creditbank.ledger.store import (
    LeafRow,
    LearnerHead,
    LogStore,
    LogTransaction,
    StoredCheckpoint,
)

__all__ = ["AppendResult", "Appended", "Batch", "verify_signatures"]

_T = TypeVar("_T")

#: Below this many entries, verifying on the calling thread beats handing work to a pool.
_PARALLEL_THRESHOLD = 64


@dataclass(frozen=True)
class Appended:
    index: int
    leaf: Leaf
    leaf_hash: bytes


@dataclass(frozen=True)
class AppendResult:
    entries: list[Appended]
    tree_size: int
    root_hash: bytes
    checkpoint: str


def verify_signatures(signed: Sequence[SignedEntry], executor: Executor | None) -> None:
    """Verify every signature, in parallel when worth it (Ed25519 verification releases the GIL)."""
    for future in _start(_verify_all, signed, executor):
        future.result()


def _verify_all(signed: Sequence[SignedEntry]) -> None:
    for item in signed:
        item.verify()


def _verify_and_wrap(
    signed: Sequence[SignedEntry], stamp: str, verified: bool = False
) -> list[tuple[Leaf, bytes]]:
    """Verify each signature, then make its leaf and leaf hash (one pass per chunk, on the pool)."""
    out: list[tuple[Leaf, bytes]] = []
    for item in signed:
        if not verified:
            item.verify()
        leaf = Leaf.wrap_at(item, stamp)
        out.append((leaf, leaf_hash(leaf.data)))
    return out


def _start(
    work: Callable[..., _T], signed: Sequence[SignedEntry], executor: Executor | None, *args: Any
) -> list[Future[_T]]:
    """Run ``work`` over chunks of ``signed``: on ``executor`` when worth it, else right here.

    Each pool thread alternates short Python steps with Ed25519 verification, which releases the
    GIL, so the threads keep every core busy. (Doing the Python work on the calling thread
    instead stalls them: a thread leaving a C call waits for the GIL a whole switch interval.)
    """
    if executor is None or len(signed) < _PARALLEL_THRESHOLD:
        done: Future[_T] = Future()
        done.set_result(work(signed, *args))
        return [done]
    chunk = max(_PARALLEL_THRESHOLD, len(signed) // (8 * (os.cpu_count() or 1)))
    return [
        executor.submit(work, signed[i : i + chunk], *args) for i in range(0, len(signed), chunk)
    ]


def _settle(futures: Sequence[Future[Any]]) -> None:
    """Cancel what has not started and wait for the rest, so no work outlives a refused batch."""
    for future in futures:
        future.cancel()
    wait(futures)


@dataclass(frozen=True)
class BatchMark:
    """A point in a batch to return to with :meth:`Batch.reset`."""

    rows: int
    nodes: int
    appended: int
    size: int
    hashes: tuple[bytes, ...]
    nonces: frozenset[tuple[str, str]]
    heads: tuple[tuple[str, IndexValue], ...] = ()


class Batch:
    """Entries staged in one serialised transaction. Obtain one from :meth:`Log.batch`."""

    def __init__(
        self,
        tx: LogTransaction,
        now: datetime,
        executor: Executor | None,
        chains: LearnerChains | None = None,
        store: LogStore | None = None,
    ) -> None:
        self.tx = tx
        self.now = now
        self._executor = executor
        start = tx.size()
        #: learner chains (None: off). ``_heads`` are this batch's staged learner heads.
        self._chains = chains
        self._heads: dict[str, IndexValue] = {}
        self.index_changed = False
        if chains is not None and store is not None:
            chains.catch_up(store.leaves, tx.learner_heads, start)
        ids = CompactRange.node_ids(start)
        found = tx.nodes(ids)
        if len(found) != len(ids):
            raise StorageError(f"the tree nodes for size {start} are missing from the store")
        self._compact = CompactRange(start, [found[i] for i in ids])
        self.start_size = start
        self._rows: list[LeafRow] = []
        self._nodes: list[tuple[NodeId, bytes]] = []
        self._appended: list[Appended] = []
        self._nonces: set[tuple[str, str]] = set()
        self.result: AppendResult | None = None

    @property
    def size(self) -> int:
        """Tree size including what this batch has staged so far."""
        return self._compact.size

    def add(
        self,
        signed: SignedEntry,
        *,
        verified: bool = False,
        nonce_checked: bool = False,
        learner: str | None = None,
    ) -> Appended:
        """Verify and stage one entry; raise without staging anything if it is refused.

        ``verified=True`` skips the signature check for an entry the caller has just verified
        itself (the accounts layer verifies before reading any state); ``nonce_checked=True``
        skips asking the store whether the nonce is used, for a caller that asked
        :meth:`used_nonces` for its whole group (entries staged here are always checked).
        ``learner``: the learner this entry is about; the log links it into that learner's chain."""
        return self.add_many(
            [signed], verified=verified, nonce_checked=nonce_checked, learners=[learner]
        )[0]

    def staged(self, actor: str, nonce: str) -> bool:
        """Whether this batch has already staged an entry of ``actor`` under ``nonce``."""
        return (actor, nonce) in self._nonces

    def used_nonces(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(actor, nonce)`` pairs among ``pairs`` already in the log or staged here."""
        return {p for p in pairs if p in self._nonces} | self.tx.used_nonces(pairs)

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Stage inside this block, or (if it raises) leave the batch as it was before it."""
        mark = self._mark()
        try:
            yield
        except BaseException:
            self._reset(mark)
            raise

    def add_many(
        self,
        signed: Sequence[SignedEntry],
        *,
        verified: bool = False,
        nonce_checked: bool = False,
        learners: Sequence[str | None] | None = None,
    ) -> list[Appended]:
        """Verify and stage entries; all or none of them are staged."""
        if learners is not None and len(learners) != len(signed):
            raise ValueError("one learner (or None) per entry")
        chained = self._chains is not None and learners is not None and any(learners)
        heads = dict(self._heads) if chained else self._heads
        pairs = [(s.entry.actor, s.entry.nonce) for s in signed]
        seen: set[tuple[str, str]] = set()
        for pair in pairs:
            if pair in seen or pair in self._nonces:
                raise DuplicateNonceError(f"actor {pair[0]} used nonce {pair[1]} twice")
            seen.add(pair)
        # Signatures verify (and leaves are wrapped and hashed) on the pool while this thread asks
        # the store about nonces, then extends a copy of the tree chunk by chunk as results come
        # in. Nothing is staged until every signature has verified.
        futures = _start(_verify_and_wrap, signed, self._executor, format_time(self.now), verified)
        compact = CompactRange(self._compact.size, self._compact.hashes)
        nodes: list[tuple[NodeId, bytes]] = []
        rows: list[LeafRow] = []
        added: list[Appended] = []
        try:
            used = set() if nonce_checked else self.tx.used_nonces(pairs)
            if used:
                actor, nonce = sorted(used)[0]
                raise DuplicateNonceError(f"actor {actor} already used nonce {nonce}")
            position = 0
            for future in futures:
                for leaf, hashed in future.result():
                    entry = signed[position].entry
                    learner = learners[position] if chained and learners else None
                    position += 1
                    index = compact.size
                    if learner is not None and self._chains is not None:
                        link = link_after(learner, self._chains.head(learner, heads))
                        leaf = leaf.with_chain(link)
                        hashed = leaf_hash(leaf.data)
                        heads[learner] = IndexValue(link.seq, index, hashed)
                    nodes.extend(compact.append(hashed))
                    rows.append(LeafRow(index, leaf.data, entry.actor, entry.nonce, entry.type))
                    added.append(Appended(index, leaf, hashed))
        except BaseException:
            _settle(futures)
            raise
        self._compact = compact
        self._nodes.extend(nodes)
        self._rows.extend(rows)
        self._nonces.update(seen)
        self._appended.extend(added)
        self._heads = heads
        return added

    def _mark(self) -> BatchMark:
        """Remember what is staged, so :meth:`attempt` can undo one entry's work."""
        return BatchMark(
            len(self._rows),
            len(self._nodes),
            len(self._appended),
            self._compact.size,
            tuple(self._compact.hashes),
            frozenset(self._nonces),
            tuple(self._heads.items()),
        )

    def _reset(self, mark: BatchMark) -> None:
        """Unstage everything added since ``mark``; earlier entries stay staged."""
        del self._rows[mark.rows :]
        del self._nodes[mark.nodes :]
        del self._appended[mark.appended :]
        self._compact = CompactRange(mark.size, mark.hashes)
        self._nonces = set(mark.nonces)
        self._heads = dict(mark.heads)

    def _commit_index(self) -> None:
        """Apply the staged heads to the index and append the system entry with its new root."""
        if self._chains is None or not self._heads:
            return
        self.index_changed = True
        root = self._chains.commit(self._heads)
        covered = self._compact.size
        body = index_entry_body(covered, root, len(self._chains.index))
        (appended,) = self.add_many([self._chains.make_index_entry(body, self.now)])
        self._chains.appended_entry(appended.index)
        if self._chains.on_appended is not None:
            self._chains.on_appended(self, appended)

    def _finish(self, signer: NoteSigner, origin: str) -> None:
        if not self._rows:
            return
        self._commit_index()
        root = self._compact.root()
        note = Checkpoint(origin, self._compact.size, root).sign([signer])
        # The heads this batch moved are written with it, so a new process loads them, not leaves.
        heads = [LearnerHead(learner, value) for learner, value in self._heads.items()]
        self.tx.write(
            self._rows,
            self._nodes,
            StoredCheckpoint(self._compact.size, root, note, self.now),
            heads if self._chains is not None else (),
        )
        self.result = AppendResult(list(self._appended), self._compact.size, root, note)
