"""An in-memory log store: a real implementation of the contract, for tests and tools.

Writes are staged in the transaction and applied only when it exits cleanly, under a lock, so a
failed batch leaves nothing behind: the same atomicity the database backends give.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from creditbank.errors import DuplicateNonceError, StorageError
from creditbank.ledger.merkle import NodeId
from creditbank.ledger.store import LeafRow, LearnerHead, StoredCheckpoint

__all__ = ["MemoryLogStore"]


class _MemoryTransaction:
    def __init__(self, store: MemoryLogStore) -> None:
        self._store = store
        self._staged: (
            tuple[list[LeafRow], list[tuple[NodeId, bytes]], StoredCheckpoint, list[LearnerHead]]
            | None
        ) = None

    def size(self) -> int:
        return len(self._store._leaves)

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return self._store.nodes(ids)

    def used_nonces(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        return {pair for pair in pairs if pair in self._store._nonces}

    def learner_heads(self, since: int) -> list[LearnerHead]:
        return self._store.learner_heads(since)

    def write(
        self,
        leaves: Sequence[LeafRow],
        nodes: Sequence[tuple[NodeId, bytes]],
        checkpoint: StoredCheckpoint,
        heads: Sequence[LearnerHead] = (),
    ) -> None:
        if self._staged is not None:
            raise StorageError("a transaction writes once")
        self._staged = (list(leaves), list(nodes), checkpoint, list(heads))

    def apply(self) -> None:
        if self._staged is None:
            return
        leaves, nodes, checkpoint, heads = self._staged
        store = self._store
        expected = len(store._leaves)
        pairs = [(row.actor, row.nonce) for row in leaves]
        if len(set(pairs)) != len(pairs) or any(p in store._nonces for p in pairs):
            raise DuplicateNonceError("an (actor, nonce) pair is already in the log")
        for offset, row in enumerate(leaves):
            if row.index != expected + offset:
                raise StorageError(f"leaf index {row.index} would leave a gap at {expected}")
        if any(node in store._nodes for node, _ in nodes):
            raise StorageError("refusing to overwrite a stored tree node")
        store._leaves.extend(leaves)
        store._nonces.update(pairs)
        store._nodes.update(nodes)
        store._checkpoints.append(checkpoint)
        store._heads.update((head.learner, head) for head in heads)


class MemoryLogStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leaves: list[LeafRow] = []
        self._nonces: set[tuple[str, str]] = set()
        self._nodes: dict[NodeId, bytes] = {}
        self._checkpoints: list[StoredCheckpoint] = []
        self._keys: dict[str, datetime] = {}
        #: Learner key -> head; replaced in place, like the SQL table (tests may edit it).
        self._heads: dict[str, LearnerHead] = {}

    def size(self) -> int:
        return len(self._leaves)

    def leaves(self, start: int, end: int) -> Iterator[LeafRow]:
        yield from self._leaves[max(start, 0) : max(end, 0)]

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {node: self._nodes[node] for node in ids if node in self._nodes}

    def node_count(self) -> int:
        return len(self._nodes)

    def checkpoints(self) -> Iterator[StoredCheckpoint]:
        yield from sorted(self._checkpoints, key=lambda c: c.tree_size)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        return self._checkpoints[-1] if self._checkpoints else None

    def checkpoint_at(self, tree_size: int) -> StoredCheckpoint | None:
        found = [c for c in self._checkpoints if c.tree_size == tree_size]
        return found[-1] if found else None

    def add_log_key(self, vkey: str, created_at: datetime) -> None:
        self._keys.setdefault(vkey, created_at)

    def log_keys(self) -> list[str]:
        return sorted(self._keys, key=self._keys.__getitem__)

    def learner_heads(self, since: int) -> list[LearnerHead]:
        return [head for head in self._heads.values() if head.value.head_index >= since]

    def find(self, actor: str, nonce: str) -> LeafRow | None:
        return next((r for r in self._leaves if (r.actor, r.nonce) == (actor, nonce)), None)

    def first_checkpoint_covering(self, index: int) -> StoredCheckpoint | None:
        return next((c for c in self.checkpoints() if c.tree_size > index), None)

    @contextmanager
    def transaction(self) -> Iterator[_MemoryTransaction]:
        with self._lock:
            tx = _MemoryTransaction(self)
            yield tx
            tx.apply()
