"""Batched inclusion proofs (transcripts) equal the one-by-one proofs, and read only the nodes
they name."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditbank.ledger import merkle, merkle_verify
from creditbank.ledger.merkle import NodeId
from creditbank.ledger.proof_batch import inclusion_proofs_from_nodes, nodes_for_inclusions


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_batched_proofs_equal_single_proofs(size: int, data: st.DataObject) -> None:
    leaves = [hashlib.sha256(str(i).encode()).digest() for i in range(size)]
    tree = merkle.MemoryTree(leaves)
    indices = data.draw(st.sets(st.integers(0, size - 1), min_size=1, max_size=20))
    at = data.draw(st.integers(max(indices) + 1, size), label="tree size")
    wanted = nodes_for_inclusions(indices, at)
    assert wanted == {n for i in indices for n in merkle.nodes_for_inclusion(i, at)}
    read: list[NodeId] = []

    def lookup(node: NodeId) -> bytes:
        read.append(node)
        return tree.node(node)

    proofs = inclusion_proofs_from_nodes(indices, at, lookup)
    assert set(read) <= wanted
    for index in indices:
        assert proofs[index] == tree.inclusion_proof(index, at)
        merkle_verify.verify_inclusion(
            merkle.leaf_hash(leaves[index]), index, at, proofs[index], tree.root(at)
        )


def test_an_index_outside_the_tree_is_refused() -> None:
    with pytest.raises(ValueError):
        nodes_for_inclusions([5], 5)
