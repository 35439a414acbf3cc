"""Many RFC 9162 inclusion proofs at one tree size, sharing the work they have in common.

A transcript proves 50 or more entries against one checkpoint. Proved one by one
(:func:`~creditbank.ledger.merkle.inclusion_proof_from_nodes`), every proof recomputes the hashes
of the tree's incomplete right edge, and finding which stored nodes to read dry-runs each proof
with SHA-256 over zeros. Here the node set comes from the ranges alone (no hashing) and each
range's hash is computed once for all proofs. The proofs are byte-for-byte the same
(``tests/ledger/test_proof_batch.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Iterable

from creditbank.ledger.merkle import NodeId, NodeLookup, node_hash

__all__ = ["InclusionPlan", "inclusion_proofs_from_nodes", "nodes_for_inclusions"]


def _split(n: int) -> int:
    """Largest power of two strictly less than ``n`` (n >= 2), as RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _sibling_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make up PATH(index, D[0:tree_size]), leaf to root."""
    if not 0 <= index < tree_size:
        raise ValueError(f"index {index} is outside a tree of size {tree_size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _complete_subtrees(start: int, end: int, out: set[NodeId]) -> None:
    """Add the stored (complete) subtrees the range ``[start, end)`` is hashed from."""
    while True:
        size = end - start
        if size & (size - 1) == 0:
            level = size.bit_length() - 1
            out.add(NodeId(level, start >> level))
            return
        k = _split(size)
        out.add(NodeId(k.bit_length() - 1, start >> (k.bit_length() - 1)))
        start += k  # the left part is complete; the right part is split again


class InclusionPlan:
    """The inclusion proofs of several indices at one tree size: which stored nodes they read
    (:attr:`nodes`, to fetch in one query) and the proofs from those nodes (:meth:`proofs`)."""

    __slots__ = ("_paths", "nodes", "tree_size")

    def __init__(self, indices: Iterable[int], tree_size: int) -> None:
        self.tree_size = tree_size
        self._paths = {index: _sibling_ranges(index, tree_size) for index in indices}
        self.nodes: set[NodeId] = set()
        for start, end in {r for path in self._paths.values() for r in path}:
            _complete_subtrees(start, end, self.nodes)

    def proofs(self, node: NodeLookup) -> dict[int, list[bytes]]:
        """PATH(index, D[0:tree_size]) for each index, every range hash computed once."""
        memo: dict[tuple[int, int], bytes] = {}

        def range_hash(start: int, end: int) -> bytes:
            found = memo.get((start, end))
            if found is None:
                size = end - start
                if size & (size - 1) == 0:
                    level = size.bit_length() - 1
                    found = node(NodeId(level, start >> level))
                else:
                    k = _split(size)
                    found = node_hash(range_hash(start, start + k), range_hash(start + k, end))
                memo[(start, end)] = found
            return found

        return {
            index: [range_hash(start, end) for start, end in path]
            for index, path in self._paths.items()
        }


def nodes_for_inclusions(indices: Iterable[int], tree_size: int) -> set[NodeId]:
    """Every stored node the inclusion proofs of ``indices`` at ``tree_size`` read."""
    return InclusionPlan(indices, tree_size).nodes


def inclusion_proofs_from_nodes(
    indices: Iterable[int], tree_size: int, node: NodeLookup
) -> dict[int, list[bytes]]:
    """PATH(index, D[0:tree_size]) for each index, every range hash computed once."""
    return InclusionPlan(indices, tree_size).proofs(node)
