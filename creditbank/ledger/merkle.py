"""Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency v2), section 2.1.

Pure functions only. The tree over ``n`` leaves is the one the RFC defines: leaf hash
``SHA-256(0x00 || leaf)``, interior node ``SHA-256(0x01 || left || right)``, split at the largest
power of two strictly below ``n``. Every subtree that recursion visits is *aligned*: it covers leaves
``[k * 2**level, (k + 1) * 2**level)`` when complete, or a right-edge range ``[start, n)``. That is
what lets a store keep only complete subtrees (:class:`NodeId`) and still answer any proof at any
tree size with O(log n) reads: the ``*_from_nodes`` functions take a ``node(level, index)`` lookup
and never touch leaves. :func:`nodes_for_inclusion` and :func:`nodes_for_consistency` list the nodes
a proof needs so a store can fetch them in one query.

The list-based functions (:func:`root_hash`, :func:`inclusion_proof`, :func:`consistency_proof`) are
the reference the storage-backed prover is tested against. The verifiers, what a client or a
witness needs, are in :mod:`creditbank.ledger.merkle_verify`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "NodeId",
    "consistency_proof",
    "consistency_proof_from_nodes",
    "inclusion_proof",
    "inclusion_proof_from_nodes",
    "leaf_hash",
    "node_hash",
    "nodes_for_consistency",
    "nodes_for_inclusion",
    "nodes_for_root",
    "root_from_nodes",
    "root_hash",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class NodeId(NamedTuple):
    """A complete subtree: ``2**level`` leaves starting at leaf ``index * 2**level``.

    A named tuple rather than a frozen dataclass: appends and audits make one per tree node, and
    tuple construction and hashing are several times cheaper.
    """

    level: int
    index: int  # type: ignore[assignment]  # the field shadows tuple.index, on purpose


NodeLookup = Callable[[NodeId], bytes]


_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly less than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- proofs over complete-subtree lookups -------------------------------------------------------


def _range_hash(start: int, end: int, node: NodeLookup) -> bytes:
    """Hash of leaves ``[start, end)``, an aligned range as produced by the RFC recursion."""
    size = end - start
    if size & (size - 1) == 0:  # a complete subtree
        level = size.bit_length() - 1
        return node(NodeId(level, start >> level))
    k = _split(size)
    return node_hash(_range_hash(start, start + k, node), _range_hash(start + k, end, node))


def root_from_nodes(tree_size: int, node: NodeLookup) -> bytes:
    """Root hash of a tree of ``tree_size`` leaves from its complete subtrees."""
    if tree_size < 0:
        raise ValueError("tree size must not be negative")
    if tree_size == 0:
        return EMPTY_ROOT
    return _range_hash(0, tree_size, node)


def inclusion_proof_from_nodes(index: int, tree_size: int, node: NodeLookup) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(index, D[0:tree_size]) from complete-subtree lookups."""
    if not 0 <= index < tree_size:
        raise ValueError(f"index {index} is outside a tree of size {tree_size}")
    path: list[bytes] = []
    start, end = 0, tree_size
    # Walk down from the root, collecting the sibling of each subtree that contains ``index``.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(_range_hash(start + k, end, node))
            end = start + k
        else:
            path.append(_range_hash(start, start + k, node))
            start += k
    path.reverse()
    return path


def consistency_proof_from_nodes(old_size: int, new_size: int, node: NodeLookup) -> list[bytes]:
    """RFC 9162 2.1.4.1 PROOF(old_size, D[0:new_size]) from complete-subtree lookups."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove consistency from size {old_size} to {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    proof: list[bytes] = []
    start, end, complete = 0, new_size, True
    # SUBPROOF(m, D[start:end], complete), unrolled: m is relative to ``start``.
    m = old_size
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(_range_hash(start, end, node))
            break
        k = _split(n)
        if m <= k:
            proof.append(_range_hash(start + k, end, node))
            end = start + k
        else:
            proof.append(_range_hash(start, start + k, node))
            start += k
            m -= k
            complete = False
    proof.reverse()
    return proof


def _recording_lookup() -> tuple[list[NodeId], NodeLookup]:
    seen: list[NodeId] = []

    def lookup(node_id: NodeId) -> bytes:
        seen.append(node_id)
        return bytes(HASH_SIZE)

    return seen, lookup


def nodes_for_inclusion(index: int, tree_size: int) -> list[NodeId]:
    """The complete subtrees :func:`inclusion_proof_from_nodes` reads, in a stable order.

    The proof's control flow does not depend on hash values, so a dry run with a recording
    lookup names exactly the nodes to fetch.
    """
    seen, lookup = _recording_lookup()
    inclusion_proof_from_nodes(index, tree_size, lookup)
    return list(dict.fromkeys(seen))


def nodes_for_consistency(old_size: int, new_size: int) -> list[NodeId]:
    """The complete subtrees :func:`consistency_proof_from_nodes` reads."""
    seen, lookup = _recording_lookup()
    consistency_proof_from_nodes(old_size, new_size, lookup)
    return list(dict.fromkeys(seen))


def nodes_for_root(tree_size: int) -> list[NodeId]:
    """The complete subtrees :func:`root_from_nodes` reads (the tree's compact range)."""
    seen, lookup = _recording_lookup()
    root_from_nodes(tree_size, lookup)
    return list(dict.fromkeys(seen))


# --- a compact range: the right edge of a growing tree ------------------------------------------


class CompactRange:
    """The complete subtrees on the right edge of a tree, enough to append and to compute roots.

    Appending a leaf hash yields every complete subtree it completes, which is what a store
    persists so that later proofs need O(log n) reads. Memory is O(log n) whatever the size.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        expected = [NodeId(level, 0) for level in _decomposition(size)]
        if len(hashes) != len(expected):
            raise ValueError(f"a compact range of size {size} has {len(expected)} hashes")
        self._size = size
        self._stack = list(hashes)  # highest subtree first, as in ``decomposition``

    @staticmethod
    def node_ids(size: int) -> list[NodeId]:
        """The complete subtrees whose hashes describe a tree of ``size`` leaves, left to right."""
        ids: list[NodeId] = []
        start = 0
        for level in _decomposition(size):
            ids.append(NodeId(level, start >> level))
            start += 1 << level
        return ids

    @property
    def size(self) -> int:
        return self._size

    @property
    def hashes(self) -> list[bytes]:
        return list(self._stack)

    def append(self, hashed_leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; return every complete subtree this completes (the leaf first)."""
        index = self._size
        stack = self._stack
        created = [(NodeId(0, index), hashed_leaf)]
        current = hashed_leaf
        level = 0
        while index & 1:
            current = _sha256(b"\x01" + stack.pop() + current).digest()  # node_hash, inlined
            level += 1
            index >>= 1
            created.append((NodeId(level, index), current))
        stack.append(current)
        self._size += 1
        return created

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        current = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            current = node_hash(left, current)
        return current


def _decomposition(size: int) -> list[int]:
    """Levels of the complete subtrees that make up ``size`` leaves, largest first."""
    return [bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]


# --- reference functions over raw leaves --------------------------------------------------------


class MemoryTree:
    """Every node of a tree in memory, level by level: appends and proofs with no per-node objects.

    Level ``L`` is a list holding the hash of complete subtree ``(L, i)`` at position ``i``; nodes
    of a level are completed in index order, so appending is a list append, and the left sibling a
    new node needs is the last entry of its level. Proofs at any size use the same
    ``*_from_nodes`` functions as the stores. This backs the list-based reference functions below
    and serves tools and benchmarks that hold a whole tree in memory.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self._size = 0
        for leaf in leaves:
            self.append_hash(_sha256(b"\x00" + leaf).digest())

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> int:
        """Append raw leaf input; return its index."""
        return self.append_hash(_sha256(b"\x00" + leaf).digest())

    def append_hash(self, hashed_leaf: bytes) -> int:
        """Append a leaf hash; return its index."""
        levels = self._levels
        position = self._size
        levels[0].append(hashed_leaf)
        current, level, index = hashed_leaf, 0, position
        while index & 1:
            current = _sha256(b"\x01" + levels[level][index - 1] + current).digest()
            level += 1
            index >>= 1
            if level == len(levels):
                levels.append([])
            levels[level].append(current)
        self._size = position + 1
        return position

    def node(self, node_id: NodeId) -> bytes:
        try:
            return self._levels[node_id.level][node_id.index]
        except IndexError:
            raise KeyError(node_id) from None

    def _check(self, tree_size: int | None) -> int:
        size = self._size if tree_size is None else tree_size
        if not 0 <= size <= self._size:
            raise ValueError(f"tree size {size} is outside 0..{self._size}")
        return size

    def root(self, tree_size: int | None = None) -> bytes:
        return root_from_nodes(self._check(tree_size), self.node)

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        return inclusion_proof_from_nodes(index, self._check(tree_size), self.node)

    def consistency_proof(self, old_size: int, tree_size: int | None = None) -> list[bytes]:
        return consistency_proof_from_nodes(old_size, self._check(tree_size), self.node)


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[0:n]) of RFC 9162 2.1.1 over raw leaf inputs."""
    return MemoryTree(leaves).root()


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[0:n]) of RFC 9162 2.1.3.1 over raw leaf inputs."""
    return MemoryTree(leaves).inclusion_proof(index)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[0:n]) of RFC 9162 2.1.4.1 over raw leaf inputs."""
    return MemoryTree(leaves).consistency_proof(old_size)


# --- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------------------------
