"""The storage contract of the log: a small Protocol every backend implements.

The log core (:mod:`creditbank.ledger.log`) owns every rule: hashing, the tree, signatures,
checkpoints. A store only keeps rows and serialises writers. Three backends implement this
contract (memory, SQLite, PostgreSQL) and one contract test suite runs against all of them.

What a store keeps:

* leaves: index, the exact leaf bytes, and ``(actor, nonce)`` which must be unique;
* complete-subtree hashes (:class:`~creditbank.ledger.merkle.NodeId`), so any proof at any size
  costs O(log n) reads;
* signed checkpoints, by tree size;
* the log's verifier keys, so checkpoints made before a key rotation stay checkable;
* every learner's chain head (:class:`LearnerHead`), written in the transaction of the batch that
  moves it, so a process starting on a big log loads O(learners) rows instead of replaying
  O(entries) leaves. Unlike the rest, these rows change (one per learner): they are a cache of what
  the leaves say, checked against the signed index entry on load and against the leaves by the
  audit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from creditbank.ledger.learner_index import IndexValue
from creditbank.ledger.merkle import NodeId

__all__ = ["LearnerHead", "LeafRow", "LogStore", "LogTransaction", "StoredCheckpoint"]


@dataclass(frozen=True)
class LeafRow:
    index: int
    data: bytes
    actor: str
    nonce: str
    entry_type: str


@dataclass(frozen=True)
class LearnerHead:
    """One learner's chain head as the log stores it: what the learner index maps the key to."""

    learner: str
    value: IndexValue


@dataclass(frozen=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    created_at: datetime


class LogTransaction(Protocol):
    """One serialised write: from the moment it exists no other writer can change the log."""

    def size(self) -> int:
        """Tree size at the start of this transaction (under the writers' lock)."""
        ...

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]: ...

    def used_nonces(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(actor, nonce)`` pairs among ``pairs`` that are already in the log."""
        ...

    def learner_heads(self, since: int) -> list[LearnerHead]:
        """The stored heads whose head index is ``>= since`` (0: all of them)."""
        ...

    def write(
        self,
        leaves: Sequence[LeafRow],
        nodes: Sequence[tuple[NodeId, bytes]],
        checkpoint: StoredCheckpoint,
        heads: Sequence[LearnerHead] = (),
    ) -> None:
        """Stage leaves, tree nodes, the checkpoint covering them and the learner heads they moved
        (inserted or replaced); committed on clean exit."""
        ...


class LogStore(Protocol):
    """Read access to a log plus a way to open a serialised write transaction."""

    def size(self) -> int: ...

    def leaves(self, start: int, end: int) -> Iterator[LeafRow]:
        """Leaves with ``start <= index < end`` in index order, streamed."""
        ...

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """The requested complete-subtree hashes; missing ones are absent from the result."""
        ...

    def node_count(self) -> int:
        """How many tree nodes are stored (an audit compares it with what the size implies)."""
        ...

    def checkpoints(self) -> Iterator[StoredCheckpoint]:
        """Every stored checkpoint, by increasing tree size (several may share a size)."""
        ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def checkpoint_at(self, tree_size: int) -> StoredCheckpoint | None: ...

    def find(self, actor: str, nonce: str) -> LeafRow | None:
        """The leaf ``actor`` appended under ``nonce``, if any (the pair is unique)."""
        ...

    def first_checkpoint_covering(self, index: int) -> StoredCheckpoint | None:
        """The earliest checkpoint whose tree includes ``index`` (the one its append wrote)."""
        ...

    def add_log_key(self, vkey: str, created_at: datetime) -> None:
        """Record a log verifier key (idempotent)."""
        ...

    def log_keys(self) -> list[str]: ...

    def learner_heads(self, since: int) -> list[LearnerHead]:
        """The stored heads whose head index is ``>= since``, read in one statement (consistent)."""
        ...

    def transaction(self) -> AbstractContextManager[LogTransaction]: ...
