"""The learner index against a naive model: same roots, proofs that verify, forgeries that fail."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditbank.errors import ProofError
from creditbank.ledger.learner_index import (
    EMPTY,
    IndexValue,
    LearnerIndex,
    MapProof,
    learner_key_hash,
    verify_map_proof,
)


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def naive_root(values: dict[bytes, IndexValue], depth: int = 0) -> bytes:
    """The definition, recursively over the sorted key set: no trie, no caching."""
    if not values:
        return EMPTY
    if len(values) == 1:
        ((key, value),) = values.items()
        return _sha(b"\x00" + key + _sha(value.encode()))
    left = {k: v for k, v in values.items() if not (int.from_bytes(k, "big") >> (255 - depth)) & 1}
    right = {k: v for k, v in values.items() if k not in left}
    return _sha(b"\x01" + naive_root(left, depth + 1) + naive_root(right, depth + 1))


learners = st.text(alphabet="abcdefgh0123", min_size=1, max_size=4)
events = st.lists(st.tuples(learners, st.integers(0, 10_000)), max_size=60)


@settings(max_examples=150, deadline=None)
@given(events, st.lists(learners, max_size=8))
def test_index_matches_the_naive_model_and_proves_every_key(history, strangers) -> None:
    index = LearnerIndex()
    model: dict[bytes, IndexValue] = {}
    for learner, position in history:
        leaf = _sha(f"{learner}/{position}".encode())
        value = index.record(learner, position, leaf)
        old = model.get(learner_key_hash(learner))
        assert value == IndexValue((old.count if old else 0) + 1, position, leaf)
        model[learner_key_hash(learner)] = value
    root = index.root()
    assert root == naive_root(model)
    for learner in {name for name, _ in history} | set(strangers):
        value, proof = index.prove(learner)
        assert value == model.get(learner_key_hash(learner))
        verify_map_proof(root, learner, value, MapProof.from_json(proof.to_json()))


@settings(max_examples=60, deadline=None)
@given(st.permutations([f"learner-{i}" for i in range(12)]))
def test_root_is_independent_of_insertion_order(order) -> None:
    index = LearnerIndex()
    for position, learner in enumerate(sorted(order)):
        index.set(learner_key_hash(learner), IndexValue(1, position, bytes(32)))
    shuffled = LearnerIndex()
    for learner in order:
        shuffled.set(
            learner_key_hash(learner), IndexValue(1, sorted(order).index(learner), bytes(32))
        )
    assert index.root() == shuffled.root()


def _populated() -> LearnerIndex:
    index = LearnerIndex()
    for i in range(40):
        index.record(f"L{i}", i, _sha(str(i).encode()))
    return index


def test_a_hidden_entry_or_a_changed_head_fails() -> None:
    index = _populated()
    root = index.root()
    value, proof = index.prove("L7")
    assert value is not None
    with pytest.raises(ProofError):
        verify_map_proof(
            root, "L7", IndexValue(value.count - 1, value.head_index, value.head_leaf_hash), proof
        )
    with pytest.raises(ProofError):
        verify_map_proof(root, "L7", IndexValue(value.count, 3, value.head_leaf_hash), proof)
    with pytest.raises(ProofError):  # a present learner cannot be shown absent
        verify_map_proof(root, "L7", None, MapProof(proof.siblings, "empty"))
    with pytest.raises(ProofError):  # another learner's proof does not fit
        verify_map_proof(root, "L8", value, proof)


def test_absence_cannot_be_shown_present_and_other_leaf_must_share_the_path() -> None:
    index = _populated()
    root = index.root()
    value, proof = index.prove("nobody")
    assert value is None
    verify_map_proof(root, "nobody", None, proof)
    with pytest.raises(ProofError):
        verify_map_proof(root, "nobody", IndexValue(1, 0, bytes(32)), proof)
    present, present_proof = index.prove("L3")
    assert present is not None
    forged = MapProof(present_proof.siblings, "other", learner_key_hash("L3"), present.value_hash)
    with pytest.raises(ProofError):
        verify_map_proof(root, "L3", None, forged)


def test_empty_index() -> None:
    index = LearnerIndex()
    assert index.root() == EMPTY
    value, proof = index.prove("x")
    assert value is None and proof.terminal == "empty" and not proof.siblings
    verify_map_proof(EMPTY, "x", None, proof)


@settings(max_examples=80, deadline=None)
@given(events, events)
def test_snapshots_do_not_move_when_the_index_does(before, after) -> None:
    index = LearnerIndex()
    for learner, position in before:
        index.record(learner, position, _sha(f"{learner}/{position}".encode()))
    model = dict(index.items())
    frozen = index.snapshot()
    root = frozen.root()
    for learner, position in after:
        index.record(learner, position, _sha(f"{learner}/{position}/2".encode()))
    assert frozen.root() == root == naive_root(model)
    assert index.root() == naive_root(dict(index.items()))
    for learner, _ in before:
        value, proof = frozen.prove(learner)
        assert value == model[learner_key_hash(learner)]
        verify_map_proof(root, learner, value, proof)


@settings(max_examples=60, deadline=None)
@given(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,20}", fullmatch=True),
    st.integers(1, 10**9),
    st.binary(min_size=32, max_size=32),
)
def test_splicing_a_link_into_a_leaf_is_its_canonical_encoding(learner, seq, prev) -> None:
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from creditbank.ledger.entry import Entry, Leaf, LearnerLink, sign_entry

    signed = sign_entry(
        Entry.create(
            type="credit.earned",
            actor="reg-1",
            nonce="nonce-0001",
            body={"learner_id": learner, "n": seq},
            claimed_at=datetime(2026, 1, 1, tzinfo=UTC),
        ),
        Ed25519PrivateKey.generate(),
    )
    leaf = Leaf.wrap_at(signed, "2026-01-01T00:00:00.000000Z")
    link = LearnerLink(learner, seq, None if seq == 1 else prev)
    spliced = leaf.with_chain(link)
    assert spliced.data == Leaf.wrap_at(signed, leaf.integrated_at, link).data
    assert Leaf.from_bytes(spliced.data).chain == link
