"""The verifiable log: append signed entries, sign checkpoints, prove inclusion and consistency.

All rules live here, over any :class:`~creditbank.ledger.store.LogStore`. An append happens inside
a :meth:`Log.batch`: the store's writers' lock is held from the moment the batch opens, so a caller
(the accounts layer) can validate entries against current state and update its read models in the
same transaction, and concurrent writers can never fork the tree. Leaving the batch cleanly writes
the leaves, the new complete subtrees and one signed checkpoint covering them; leaving it with an
exception writes nothing. What a batch stages, and how, is :mod:`creditbank.ledger.batch`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime

from creditbank.errors import NotFoundError, StorageError
from creditbank.ledger.batch import Appended, AppendResult, Batch, verify_signatures
from creditbank.ledger.chain import LearnerChains
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier
from creditbank.ledger.entry import Leaf, SignedEntry
from creditbank.ledger.merkle import (
    CompactRange,
    NodeId,
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    nodes_for_consistency,
    nodes_for_inclusion,
    root_from_nodes,
)
from creditbank.ledger.store import LogStore, StoredCheckpoint

__all__ = ["AppendResult", "Appended", "Batch", "Log", "verify_signatures"]


class Log:
    """A verifiable log over a store. ``signer`` may be ``None`` for a read-only view."""

    def __init__(
        self,
        store: LogStore,
        *,
        origin: str,
        signer: NoteSigner | None = None,
        executor: Executor | None = None,
        chains: LearnerChains | None = None,
    ) -> None:
        self.store = store
        self.origin = origin
        self.signer = signer
        self._executor = executor
        #: per-learner chains and the learner index (None: the log keeps no learner chains).
        self.chains = chains

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
        batch: Batch | None = None
        try:
            with self.store.transaction() as tx:
                batch = Batch(tx, now, self._executor, self.chains, self.store)
                yield batch
                batch._finish(signer, self.origin)
        except BaseException:
            # The in-memory index moved ahead of a transaction that did not commit.
            if self.chains is not None and batch is not None and batch.index_changed:
                self.chains.invalidate()
            elif self.chains is not None:
                self.chains.writing = False
            raise
        if self.chains is not None and batch is not None:
            self.chains.committed(batch.result.tree_size if batch.result else batch.start_size)

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
