"""RFC 9162 Merkle tree: transparency-dev golden vectors, corruption probes, a naive twin.

Vectors are copied from transparency-dev/merkle ``proof/verify_test.go`` (the CT test data); the
indexes there are 1-based and are converted where used. The probes are that file's
``corruptInclusionProof`` / ``corruptConsistencyProof``: every one must be rejected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditbank.errors import ProofError
from creditbank.ledger import merkle
from creditbank.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
)
from creditbank.ledger.merkle_verify import verify_consistency, verify_inclusion


def h(text: str) -> bytes:
    return bytes.fromhex(text)


LEAVES = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

ROOTS = [
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

EMPTY_TREE_HASH = h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

# (1-based leaf, tree size, proof)
INCLUSION_PROOFS = [
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

CONSISTENCY_PROOFS = [
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


# --- the naive twin: RFC 9162 section 2.1, transcribed ------------------------------------------


def mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 2.1.4.1 (for 0 < m < n)."""
    return subproof(m, d, True)


def subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


# --- golden vectors ----------------------------------------------------------------------------


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert root_hash([]) == EMPTY_ROOT == EMPTY_TREE_HASH
    assert CompactRange().root() == EMPTY_TREE_HASH


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_golden_leaves(size: int) -> None:
    assert root_hash(LEAVES[:size]) == ROOTS[size - 1]
    assert mth(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize("size", range(1, 9))
def test_compact_range_roots_of_the_golden_leaves(size: int) -> None:
    compact = CompactRange()
    for leaf in LEAVES[:size]:
        compact.append(leaf_hash(leaf))
    assert compact.root() == ROOTS[size - 1]
    rebuilt = CompactRange(size, compact.hashes)
    assert rebuilt.root() == ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "expected"), INCLUSION_PROOFS)
def test_published_inclusion_proofs(leaf: int, size: int, expected: list[bytes]) -> None:
    index = leaf - 1
    assert inclusion_proof(LEAVES[:size], index) == expected
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, expected, ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "expected"), CONSISTENCY_PROOFS)
def test_published_consistency_proofs(old: int, new: int, expected: list[bytes]) -> None:
    assert consistency_proof(LEAVES[:new], old) == expected
    verify_consistency(old, new, ROOTS[old - 1], ROOTS[new - 1], expected)


def test_single_leaf_tree_has_an_empty_proof() -> None:
    data_hash = leaf_hash(b"data")
    verify_inclusion(data_hash, 0, 1, [], data_hash)
    for leaf, root in [(data_hash, b""), (b"", data_hash), (b"", b"")]:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, 0, 1, [], root)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_with_empty_proof_and_bad_hashes(index: int, size: int) -> None:
    for leaf, root in [(SOME_HASH, b""), (b"", EMPTY_TREE_HASH), (SOME_HASH, EMPTY_TREE_HASH)]:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, [], root)


# --- corruption probes (verify_test.go) --------------------------------------------------------


def inclusion_probes(
    index: int, size: int, proof_: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    probes = [
        ("index - 1", index - 1, size, root, leaf, proof_),
        ("index + 1", index + 1, size, root, leaf, proof_),
        ("index ^ 2", index ^ 2, size, root, leaf, proof_),
        ("size * 2", index, size * 2, root, leaf, proof_),
        ("size / 2", index, size // 2, root, leaf, proof_),
        ("wrong leaf", index, size, root, b"WrongLeaf", proof_),
        ("empty root", index, size, EMPTY_TREE_HASH, leaf, proof_),
        ("random root", index, size, SOME_HASH, leaf, proof_),
        ("trailing garbage", index, size, root, leaf, [*proof_, b""]),
        ("trailing root", index, size, root, leaf, [*proof_, root]),
        ("preceding garbage", index, size, root, leaf, [b"", *proof_]),
        ("preceding root", index, size, root, leaf, [root, *proof_]),
    ]
    for i in range(len(proof_)):
        flipped = list(proof_)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((f"proof[{i}] bit 3", index, size, root, leaf, flipped))
    if proof_:
        probes.append(("removed component", index, size, root, leaf, proof_[:-1]))
    if len(proof_) > 1:
        inserted = [proof_[0], SOME_HASH, *proof_[1:]]
        probes.append(("inserted component", index, size, root, leaf, inserted))
    return probes


def consistency_probes(
    old: int, new: int, root1: bytes, root2: bytes, proof_: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    probes = [
        ("old - 1", old - 1, new, root1, root2, proof_),
        ("old + 1", old + 1, new, root1, root2, proof_),
        ("old ^ 2", old ^ 2, new, root1, root2, proof_),
        ("new * 2", old, new * 2, root1, root2, proof_),
        ("new / 2", old, new // 2, root1, root2, proof_),
        ("wrong root1", old, new, b"WrongRoot", root2, proof_),
        ("wrong root2", old, new, root1, b"WrongRoot", proof_),
        ("swapped roots", old, new, root2, root1, proof_),
        ("empty proof", old, new, root1, root2, []),
        ("trailing garbage", old, new, root1, root2, [*proof_, b""]),
        ("trailing root1", old, new, root1, root2, [*proof_, root1]),
        ("trailing root2", old, new, root1, root2, [*proof_, root2]),
        ("preceding garbage", old, new, root1, root2, [b"", *proof_]),
        ("preceding root1", old, new, root1, root2, [root1, *proof_]),
        ("preceding root2", old, new, root1, root2, [root2, *proof_]),
        ("preceding proof[0]", old, new, root1, root2, [proof_[0], *proof_]),
        ("truncated proof", old, new, root1, root2, proof_[:-1]),
    ]
    for i in range(len(proof_)):
        flipped = list(proof_)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((f"proof[{i}] bit 4", old, new, root1, root2, flipped))
    return probes


INCLUSION_CASES = [
    pytest.param(
        probe,
        id=f"leaf{leaf}-of-{size}: {probe[0]}",
    )
    for leaf, size, expected in INCLUSION_PROOFS
    for probe in inclusion_probes(
        leaf - 1, size, expected, ROOTS[size - 1], leaf_hash(LEAVES[leaf - 1])
    )
]

CONSISTENCY_CASES = [
    pytest.param(probe, id=f"{old}-to-{new}: {probe[0]}")
    for old, new, expected in CONSISTENCY_PROOFS
    for probe in consistency_probes(old, new, ROOTS[old - 1], ROOTS[new - 1], expected)
]


@pytest.mark.parametrize("probe", INCLUSION_CASES)
def test_corrupted_inclusion_proofs_are_rejected(
    probe: tuple[str, int, int, bytes, bytes, list[bytes]],
) -> None:
    _, index, size, root, leaf, proof_ = probe
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof_, root)


@pytest.mark.parametrize("probe", CONSISTENCY_CASES)
def test_corrupted_consistency_proofs_are_rejected(
    probe: tuple[str, int, int, bytes, bytes, list[bytes]],
) -> None:
    _, old, new, root1, root2, proof_ = probe
    with pytest.raises(ProofError):
        verify_consistency(old, new, root1, root2, proof_)


# --- consistency edge cases (TestVerifyConsistency and the issue) -------------------------------

ROOT1 = hashlib.sha256(b"don't care 1").digest()
ROOT2 = hashlib.sha256(b"don't care 2").digest()


@pytest.mark.parametrize(
    ("old", "new", "root1", "root2", "proof_"),
    [
        pytest.param(0, 0, ROOT1, ROOT1, [], id="0-0 same root"),
        pytest.param(0, 1, ROOT1, ROOT2, [], id="0-1 anything"),
        pytest.param(1, 1, ROOT2, ROOT2, [], id="1-1 same root"),
        pytest.param(5, 5, ROOTS[4], ROOTS[4], [], id="5-5 same root"),
    ],
)
def test_always_consistent_sizes(
    old: int, new: int, root1: bytes, root2: bytes, proof_: list[bytes]
) -> None:
    verify_consistency(old, new, root1, root2, proof_)


@pytest.mark.parametrize(
    ("old", "new", "root1", "root2", "proof_"),
    [
        pytest.param(0, 0, ROOT1, ROOT2, [], id="equal sizes, different roots"),
        pytest.param(1, 1, ROOT1, ROOT2, [], id="equal sizes 1, different roots"),
        pytest.param(1, 0, ROOT1, ROOT2, [], id="tree shrinks 1-0"),
        pytest.param(2, 1, ROOT1, ROOT2, [], id="tree shrinks 2-1"),
        pytest.param(1, 2, ROOT1, ROOT2, [], id="empty proof for growth"),
        pytest.param(0, 0, EMPTY_TREE_HASH, ROOT2, [], id="0-0 roots differ"),
        pytest.param(1, 1, EMPTY_TREE_HASH, ROOT2, [], id="1-1 roots differ"),
        pytest.param(
            0, 0, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], id="equal sizes 0, proof"
        ),
        pytest.param(0, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], id="old 0, proof"),
        pytest.param(0, 8, EMPTY_TREE_HASH, ROOTS[7], [ROOTS[7]], id="old 0 of 8, proof"),
        pytest.param(
            1, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH], id="equal sizes 1, proof"
        ),
        pytest.param(8, 8, ROOTS[7], ROOTS[7], [ROOTS[7]], id="equal sizes 8, proof"),
        pytest.param(2, 5, ROOTS[1][:31], ROOTS[4], CONSISTENCY_PROOFS[2][2], id="short old root"),
        pytest.param(2, 5, ROOTS[1], ROOTS[4] + b"\0", CONSISTENCY_PROOFS[2][2], id="long root"),
        pytest.param(
            2, 5, ROOTS[1], ROOTS[4], [CONSISTENCY_PROOFS[2][2][0][:31]], id="short proof hash"
        ),
    ],
)
def test_inconsistent_inputs_are_rejected(
    old: int, new: int, root1: bytes, root2: bytes, proof_: list[bytes]
) -> None:
    with pytest.raises(ProofError):
        verify_consistency(old, new, root1, root2, proof_)


def test_hashes_must_be_32_bytes_for_inclusion() -> None:
    index, size, expected = 0, 8, INCLUSION_PROOFS[0][2]
    leaf = leaf_hash(LEAVES[0])
    verify_inclusion(leaf, index, size, expected, ROOTS[7])
    with pytest.raises(ProofError):
        verify_inclusion(leaf[:31], index, size, expected, ROOTS[7])
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, expected, ROOTS[7] + b"\0")
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, [expected[0] + b"\0", *expected[1:]], ROOTS[7])


# --- the implementation agrees with the naive RFC text -----------------------------------------

leaf_lists = st.lists(st.binary(max_size=12), max_size=70)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists)
def test_root_agrees_with_naive_mth(leaves: list[bytes]) -> None:
    assert root_hash(leaves) == mth(leaves)
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf_hash(leaf))
    assert compact.root() == mth(leaves)


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists.filter(bool), data=st.data())
def test_inclusion_agrees_with_naive_path(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1), label="index")
    got = inclusion_proof(leaves, index)
    assert got == path(index, leaves)
    verify_inclusion(leaf_hash(leaves[index]), index, len(leaves), got, mth(leaves))


@settings(max_examples=60, deadline=None)
@given(leaves=leaf_lists.filter(lambda xs: len(xs) >= 2), data=st.data())
def test_consistency_agrees_with_naive_proof(leaves: list[bytes], data: st.DataObject) -> None:
    old = data.draw(st.integers(1, len(leaves) - 1), label="old size")
    got = consistency_proof(leaves, old)
    assert got == proof(old, leaves)
    verify_consistency(old, len(leaves), mth(leaves[:old]), mth(leaves), got)


@settings(max_examples=25, deadline=None)
@given(leaves=st.lists(st.binary(max_size=4), min_size=1, max_size=40))
def test_every_proof_of_a_tree_verifies(leaves: list[bytes]) -> None:
    n = len(leaves)
    root = mth(leaves)
    for index in range(n):
        verify_inclusion(leaf_hash(leaves[index]), index, n, inclusion_proof(leaves, index), root)
    for old in range(0, n + 1):
        verify_consistency(old, n, mth(leaves[:old]), root, consistency_proof(leaves, old))


@settings(max_examples=40, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_compact_range_restored_from_its_hashes(leaves: list[bytes], data: st.DataObject) -> None:
    """A compact range rebuilt from its stored hashes (what a store keeps) keeps growing right."""
    cut = data.draw(st.integers(0, len(leaves)), label="cut")
    first = CompactRange()
    table: dict[merkle.NodeId, bytes] = {}
    for leaf in leaves[:cut]:
        table.update(first.append(leaf_hash(leaf)))
    assert [table[node] for node in CompactRange.node_ids(cut)] == first.hashes
    resumed = CompactRange(cut, first.hashes)
    for leaf in leaves[cut:]:
        table.update(resumed.append(leaf_hash(leaf)))
    assert resumed.root() == mth(leaves)
    assert merkle.root_from_nodes(len(leaves), table.__getitem__) == mth(leaves)
    assert sorted(merkle.nodes_for_root(len(leaves)), key=lambda n: -n.level) == sorted(
        CompactRange.node_ids(len(leaves)), key=lambda n: -n.level
    )


def test_compact_range_refuses_the_wrong_number_of_hashes() -> None:
    with pytest.raises(ValueError):
        CompactRange(3, [EMPTY_ROOT])


@settings(max_examples=40, deadline=None)
@given(leaves=leaf_lists.filter(bool), data=st.data())
def test_memory_tree_answers_for_every_earlier_size(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = merkle.MemoryTree(leaves)
    assert tree.size == len(leaves) and tree.root() == mth(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(0, size), label="old")
    assert tree.root(size) == mth(leaves[:size])
    assert tree.inclusion_proof(index, size) == path(index, leaves[:size])
    expected = [] if old in (0, size) else proof(old, leaves[:size])
    assert tree.consistency_proof(old, size) == expected
    with pytest.raises(ValueError):
        tree.root(len(leaves) + 1)
    with pytest.raises(KeyError):
        tree.node(merkle.NodeId(0, len(leaves)))
