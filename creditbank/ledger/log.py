"""The verifiable log: append signed entries, sign checkpoints, prove inclusion and consistency.

All rules live here, over any :class:`~creditbank.ledger.store.LogStore`. An append happens inside
a :meth:`Log.batch`: the store's writers' lock is held from the moment the batch opens, so a caller
(the accounts layer) can validate entries against current state and update its read models in the
same transaction, and concurrent writers can never fork the tree. Leaving the batch cleanly writes
the leaves, the new complete subtrees and one signed checkpoint covering them; leaving it with an
exception writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from creditbank.errors import DuplicateNonceError, NotFoundError, StorageError
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier
from creditbank.ledger.entry import Leaf, SignedEntry, format_time
from creditbank.ledger.merkle import (
    CompactRange,
    NodeId,
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    leaf_hash,
    nodes_for_consistency,
    nodes_for_inclusion,
    root_from_nodes,
)
from creditbank.ledger.store import LeafRow, LogStore, LogTransaction, StoredCheckpoint

__all__ = ["AppendResult", "Appended", "Batch", "Log", "verify_signatures"]

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


class Batch:
    """Entries staged in one serialised transaction. Obtain one from :meth:`Log.batch`."""

    def __init__(self, tx: LogTransaction, now: datetime, executor: Executor | None) -> None:
        self.tx = tx
        self.now = now
        self._executor = executor
        start = tx.size()
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
        self, signed: SignedEntry, *, verified: bool = False, nonce_checked: bool = False
    ) -> Appended:
        """Verify and stage one entry; raise without staging anything if it is refused.

        ``verified=True`` skips the signature check for an entry the caller has just verified
        itself (the accounts layer verifies before reading any state); ``nonce_checked=True``
        skips asking the store whether the nonce is used, for a caller that asked
        :meth:`used_nonces` for its whole group (entries staged here are always checked)."""
        return self.add_many([signed], verified=verified, nonce_checked=nonce_checked)[0]

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
    ) -> list[Appended]:
        """Verify and stage entries; all or none of them are staged."""
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
                    position += 1
                    index = compact.size
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
        )

    def _reset(self, mark: BatchMark) -> None:
        """Unstage everything added since ``mark``; earlier entries stay staged."""
        del self._rows[mark.rows :]
        del self._nodes[mark.nodes :]
        del self._appended[mark.appended :]
        self._compact = CompactRange(mark.size, mark.hashes)
        self._nonces = set(mark.nonces)

    def _finish(self, signer: NoteSigner, origin: str) -> None:
        if not self._rows:
            return
        root = self._compact.root()
        note = Checkpoint(origin, self._compact.size, root).sign([signer])
        self.tx.write(
            self._rows, self._nodes, StoredCheckpoint(self._compact.size, root, note, self.now)
        )
        self.result = AppendResult(list(self._appended), self._compact.size, root, note)


class Log:
    """A verifiable log over a store. ``signer`` may be ``None`` for a read-only view."""

    def __init__(
        self,
        store: LogStore,
        *,
        origin: str,
        signer: NoteSigner | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.store = store
        self.origin = origin
        self.signer = signer
        self._executor = executor

    @classmethod
    @contextmanager
    def open(cls, store: LogStore, *, origin: str, signer: NoteSigner | None) -> Iterator[Log]:
        """A log with its own verification thread pool, shut down on exit."""
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            yield cls(store, origin=origin, signer=signer, executor=pool)

    # --- writing ------------------------------------------------------------------------------

    def _require_signer(self) -> NoteSigner:
        if self.signer is None:
            raise StorageError("this log was opened read-only (no log key)")
        return self.signer

    @contextmanager
    def batch(self, *, now: datetime) -> Iterator[Batch]:
        signer = self._require_signer()
        with self.store.transaction() as tx:
            batch = Batch(tx, now, self._executor)
            yield batch
            batch._finish(signer, self.origin)

    def append(self, signed: Sequence[SignedEntry], *, now: datetime) -> AppendResult:
        """Append entries atomically and return them with the checkpoint that covers them."""
        if not signed:
            raise ValueError("nothing to append")
        with self.batch(now=now) as batch:
            batch.add_many(signed)
        assert batch.result is not None
        return batch.result

    def register_key(self, *, now: datetime) -> None:
        """Record this log's verifier key and sign a checkpoint of the current tree with it.

        Called at ``init`` and after a key rotation, so the newest checkpoint is always signed by
        the current key and every earlier key stays on record for older checkpoints.
        """
        signer = self._require_signer()
        self.store.add_log_key(signer.verifier.vkey, now)
        with self.store.transaction() as tx:
            size = tx.size()
            root = root_from_nodes(size, _lookup(tx.nodes(CompactRange.node_ids(size)), size))
            note = Checkpoint(self.origin, size, root).sign([signer])
            tx.write([], [], StoredCheckpoint(size, root, note, now))

    # --- reading ------------------------------------------------------------------------------

    @property
    def verifier(self) -> NoteVerifier:
        return self._require_signer().verifier

    def verifiers(self) -> list[NoteVerifier]:
        """Every log key on record (current and rotated-out), for checking stored checkpoints."""
        return [NoteVerifier.from_vkey(vkey) for vkey in self.store.log_keys()]

    def size(self) -> int:
        return self.store.size()

    def find(self, actor: str, nonce: str) -> tuple[int, Leaf, StoredCheckpoint] | None:
        """The entry ``actor`` appended under ``nonce`` and the checkpoint its append wrote.

        The nonce is an entry's idempotency key: a retried submission is answered from here.
        """
        row = self.store.find(actor, nonce)
        if row is None:
            return None
        checkpoint = self.store.first_checkpoint_covering(row.index)
        if checkpoint is None:
            raise StorageError(f"no checkpoint covers entry {row.index}")
        return row.index, Leaf.from_bytes(row.data), checkpoint

    def latest_checkpoint(self) -> StoredCheckpoint:
        found = self.store.latest_checkpoint()
        if found is None:
            raise NotFoundError("the log has no checkpoint yet; run `creditbank init`")
        return found

    def leaf(self, index: int) -> Leaf:
        rows = list(self.store.leaves(index, index + 1))
        if index < 0 or not rows:
            raise NotFoundError(f"no entry at index {index}")
        return Leaf.from_bytes(rows[0].data)

    def leaves(self, start: int, end: int) -> list[tuple[int, Leaf]]:
        return [(row.index, Leaf.from_bytes(row.data)) for row in self.store.leaves(start, end)]

    def _checked_size(self, tree_size: int | None) -> int:
        latest = self.latest_checkpoint().tree_size
        if tree_size is None:
            return latest
        if not 0 <= tree_size <= latest:
            raise NotFoundError(f"no checkpoint covers tree size {tree_size} (latest is {latest})")
        return tree_size

    def root(self, tree_size: int | None = None) -> bytes:
        size = self._checked_size(tree_size)
        return root_from_nodes(size, _lookup(self.store.nodes(CompactRange.node_ids(size)), size))

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        size = self._checked_size(tree_size)
        if not 0 <= index < size:
            raise NotFoundError(f"index {index} is not in a tree of size {size}")
        nodes = self.store.nodes(nodes_for_inclusion(index, size))
        return inclusion_proof_from_nodes(index, size, _lookup(nodes, size))

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        size = self._checked_size(second)
        if not 0 <= first <= size:
            raise NotFoundError(f"cannot prove consistency from size {first} to {size}")
        nodes = self.store.nodes(nodes_for_consistency(first, size))
        return consistency_proof_from_nodes(first, size, _lookup(nodes, size))


def _lookup(nodes: dict[NodeId, bytes], size: int) -> Callable[[NodeId], bytes]:
    def get(node: NodeId) -> bytes:
        try:
            return nodes[node]
        except KeyError:
            raise StorageError(
                f"tree node {node} for size {size} is missing from the store"
            ) from None

    return get
