"""One contract for every log store: memory, SQLite and PostgreSQL run the same tests.

The ``ledger`` fixture (conftest) is a :class:`Log` over the parametrised ``log_store``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event

from creditbank.errors import DuplicateNonceError, NotFoundError, SignatureError
from creditbank.ledger import merkle, merkle_verify
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner
from creditbank.ledger.entry import Entry, Leaf, SignedEntry, sign_entry
from creditbank.ledger.learner_index import IndexValue
from creditbank.ledger.log import Log
from creditbank.ledger.merkle import CompactRange, NodeId, leaf_hash
from creditbank.ledger.sql import SqlLogStore
from creditbank.ledger.store import (
    LeafRow,
    LearnerHead,
    LogStore,
    LogTransaction,
    StoredCheckpoint,
)

from .conftest import ORIGIN, MakeEntries


def stored_leaves(store: LogStore) -> list[bytes]:
    return [row.data for row in store.leaves(0, store.size())]


def snapshot(store: LogStore) -> tuple[int, int, list[tuple[int, bytes]]]:
    return (
        store.size(),
        store.node_count(),
        [(cp.tree_size, cp.root_hash) for cp in store.checkpoints()],
    )


def expected_node_count(size: int) -> int:
    return sum(size >> level for level in range(size.bit_length()))


def test_a_new_log_is_empty_with_a_checkpoint_of_the_empty_tree(ledger: Log) -> None:
    store = ledger.store
    assert store.size() == 0 and ledger.size() == 0
    assert list(store.leaves(0, 10)) == []
    assert store.node_count() == 0
    latest = ledger.latest_checkpoint()
    assert (latest.tree_size, latest.root_hash) == (0, merkle.EMPTY_ROOT)
    assert ledger.root() == merkle.EMPTY_ROOT
    assert store.log_keys() == [ledger.verifier.vkey]
    Checkpoint.open(latest.note, ledger.verifiers(), origin=ORIGIN)


def test_append_batches(ledger: Log, make_entries: MakeEntries, now: datetime) -> None:
    first = ledger.append(make_entries(3), now=now)
    assert [a.index for a in first.entries] == [0, 1, 2]
    assert first.tree_size == 3
    second = ledger.append(make_entries(5), now=now + timedelta(seconds=1))
    assert [a.index for a in second.entries] == [3, 4, 5, 6, 7]
    assert ledger.size() == ledger.store.size() == 8

    leaves = stored_leaves(ledger.store)
    assert leaves == [a.leaf.data for a in first.entries + second.entries]
    assert second.root_hash == ledger.root() == merkle.root_hash(leaves)
    assert first.root_hash == ledger.root(3) == merkle.root_hash(leaves[:3])
    for appended in first.entries + second.entries:
        assert appended.leaf_hash == leaf_hash(appended.leaf.data)
    checkpoint = Checkpoint.open(second.checkpoint, [ledger.verifier], origin=ORIGIN)
    assert (checkpoint.size, checkpoint.root_hash) == (8, second.root_hash)


def test_batch_add_one_at_a_time(ledger: Log, make_entries: MakeEntries, now: datetime) -> None:
    entries = make_entries(4)
    with ledger.batch(now=now) as batch:
        assert batch.size == 0
        for entry in entries:
            batch.add(entry)
        assert batch.size == 4
    assert batch.result is not None and batch.result.tree_size == 4
    assert ledger.size() == 4


def test_an_empty_batch_writes_nothing(ledger: Log, now: datetime) -> None:
    before = snapshot(ledger.store)
    with ledger.batch(now=now):
        pass
    assert snapshot(ledger.store) == before


def test_leaves_stream_in_order(ledger: Log, make_entries: MakeEntries, now: datetime) -> None:
    appended = ledger.append(make_entries(12), now=now).entries
    store = ledger.store
    rows = list(store.leaves(3, 9))
    assert [r.index for r in rows] == list(range(3, 9))
    assert [r.data for r in rows] == [a.leaf.data for a in appended[3:9]]
    assert [(r.actor, r.nonce, r.entry_type) for r in rows] == [
        (a.leaf.entry.actor, a.leaf.entry.nonce, a.leaf.entry.type) for a in appended[3:9]
    ]
    assert [r.index for r in store.leaves(10, 100)] == [10, 11]
    assert list(store.leaves(12, 20)) == []
    assert list(store.leaves(5, 5)) == []
    assert ledger.leaf(7).data == appended[7].leaf.data
    assert [i for i, _ in ledger.leaves(0, 3)] == [0, 1, 2]
    with pytest.raises(NotFoundError):
        ledger.leaf(12)
    with pytest.raises(NotFoundError):
        ledger.leaf(-1)


def test_nodes_are_the_complete_subtrees(
    ledger: Log, make_entries: MakeEntries, now: datetime
) -> None:
    ledger.append(make_entries(6), now=now)
    ledger.append(make_entries(7), now=now)
    leaves = stored_leaves(ledger.store)
    assert ledger.store.node_count() == expected_node_count(13) == 13 + 6 + 3 + 1
    wanted = [NodeId(0, 12), NodeId(1, 5), NodeId(2, 2), NodeId(3, 0), NodeId(3, 1), NodeId(0, 13)]
    found = ledger.store.nodes(wanted)
    assert set(found) == set(wanted[:4])  # (3, 1) and (0, 13) are not complete yet
    assert found[NodeId(0, 12)] == leaf_hash(leaves[12])
    assert found[NodeId(1, 5)] == merkle.root_hash(leaves[10:12])
    assert found[NodeId(2, 2)] == merkle.root_hash(leaves[8:12])
    assert found[NodeId(3, 0)] == merkle.root_hash(leaves[:8])
    assert ledger.store.nodes([]) == {}


def test_checkpoints_in_order(ledger: Log, make_entries: MakeEntries, now: datetime) -> None:
    for i, n in enumerate([2, 1, 4]):
        ledger.append(make_entries(n), now=now + timedelta(minutes=i))
    ledger.register_key(now=now + timedelta(minutes=5))  # a second checkpoint at size 7
    store = ledger.store
    checkpoints = list(store.checkpoints())
    assert [cp.tree_size for cp in checkpoints] == [0, 2, 3, 7, 7]
    leaves = stored_leaves(store)
    for cp in checkpoints:
        assert cp.root_hash == merkle.root_hash(leaves[: cp.tree_size])
        parsed = Checkpoint.open(cp.note, ledger.verifiers(), origin=ORIGIN)
        assert (parsed.size, parsed.root_hash) == (cp.tree_size, cp.root_hash)
    latest = store.latest_checkpoint()
    assert latest is not None and latest.tree_size == 7
    assert latest.created_at.replace(tzinfo=None) == (now + timedelta(minutes=5)).replace(
        tzinfo=None
    )
    at3 = store.checkpoint_at(3)
    assert at3 is not None and at3.root_hash == merkle.root_hash(leaves[:3])
    assert store.checkpoint_at(4) is None


def test_log_keys_are_recorded_once_in_order(ledger: Log, now: datetime) -> None:
    store = ledger.store
    store.add_log_key(ledger.verifier.vkey, now + timedelta(days=1))  # idempotent
    other = Log(store, origin=ORIGIN, signer=None)
    assert other.verifiers() == [ledger.verifier]
    assert store.log_keys() == [ledger.verifier.vkey]


def test_an_exception_inside_a_batch_leaves_no_trace(
    ledger: Log, make_entries: MakeEntries, now: datetime
) -> None:
    ledger.append(make_entries(5), now=now)
    before = snapshot(ledger.store)
    with pytest.raises(RuntimeError, match="read model refused"):
        with ledger.batch(now=now) as batch:
            batch.add_many(make_entries(9))
            assert batch.size == 14
            raise RuntimeError("read model refused")
    assert snapshot(ledger.store) == before
    # ... and the log carries on from where it was.
    result = ledger.append(make_entries(2), now=now)
    assert [a.index for a in result.entries] == [5, 6]
    assert result.root_hash == merkle.root_hash(stored_leaves(ledger.store))


def test_a_bad_signature_refuses_the_whole_call(
    ledger: Log, make_entries: MakeEntries, now: datetime
) -> None:
    entries = make_entries(80)  # enough to go through the thread pool
    bad = entries[41]
    forged = SignedEntry(bad.entry, bad.public_key, entries[40].signature)
    entries[41] = forged
    before = snapshot(ledger.store)
    with pytest.raises(SignatureError):
        ledger.append(entries, now=now)
    assert snapshot(ledger.store) == before
    with ledger.batch(now=now) as batch:
        batch.add_many(entries[:5])
        with pytest.raises(SignatureError):
            batch.add_many(entries[5:])  # refused as a whole; the first five stay staged
        assert batch.size == 5
    assert ledger.size() == 5


def test_duplicate_nonce_within_a_batch(
    ledger: Log, make_entries: MakeEntries, now: datetime
) -> None:
    ledger.append(make_entries(3), now=now)
    before = snapshot(ledger.store)
    entries = make_entries(4)
    with pytest.raises(DuplicateNonceError):
        ledger.append([*entries, entries[1]], now=now)
    assert snapshot(ledger.store) == before
    with pytest.raises(DuplicateNonceError):
        with ledger.batch(now=now) as batch:
            batch.add_many(entries[:2])
            batch.add(entries[0])
    assert snapshot(ledger.store) == before


def test_duplicate_nonce_against_the_stored_log(
    ledger: Log, make_entries: MakeEntries, now: datetime
) -> None:
    stored = make_entries(3)
    ledger.append(stored, now=now)
    before = snapshot(ledger.store)
    with pytest.raises(DuplicateNonceError, match=stored[2].entry.nonce):
        ledger.append([*make_entries(2), stored[2]], now=now)
    assert snapshot(ledger.store) == before
    with pytest.raises(DuplicateNonceError):
        ledger.append([stored[0]], now=now)  # a retried request
    assert snapshot(ledger.store) == before


def test_the_same_nonce_for_another_actor_is_fine(
    ledger: Log, make_entries: MakeEntries, now: datetime
) -> None:
    first = make_entries(1, actor="provider-1")[0]
    other = make_entries(1, actor="provider-2", key=Ed25519PrivateKey.generate())[0]
    assert first.entry.nonce != other.entry.nonce
    ledger.append([first], now=now)
    same_nonce = Entry.from_json({**other.entry.to_json(), "nonce": first.entry.nonce})
    ledger.append([sign_entry(same_nonce, Ed25519PrivateKey.generate())], now=now)
    assert ledger.size() == 2


def test_storage_backed_proofs_equal_the_reference_at_every_size(
    ledger: Log, make_entries: MakeEntries, now: datetime
) -> None:
    total = 33
    for entry in make_entries(total):  # one checkpoint per size
        ledger.append([entry], now=now)
    leaves = stored_leaves(ledger.store)
    for size in range(1, total + 1):
        root = merkle.root_hash(leaves[:size])
        assert ledger.root(size) == root
        for index in range(size):
            got = ledger.inclusion_proof(index, size)
            assert got == merkle.inclusion_proof(leaves[:size], index)
            merkle_verify.verify_inclusion(leaf_hash(leaves[index]), index, size, got, root)
        for old in range(size + 1):
            got = ledger.consistency_proof(old, size)
            assert got == merkle.consistency_proof(leaves[:size], old)
            merkle_verify.verify_consistency(old, size, merkle.root_hash(leaves[:old]), root, got)
    assert ledger.inclusion_proof(5) == merkle.inclusion_proof(leaves, 5)  # default: latest
    with pytest.raises(NotFoundError):
        ledger.inclusion_proof(total, total)
    with pytest.raises(NotFoundError):
        ledger.root(total + 1)
    with pytest.raises(NotFoundError):
        ledger.consistency_proof(total + 1)


# --- O(log n) reads ----------------------------------------------------------------------------


class CountingStore:
    """Delegates to a store and records every node id asked for."""

    def __init__(self, inner: LogStore) -> None:
        self.inner = inner
        self.requested: list[NodeId] = []

    def nodes(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        wanted = list(ids)
        self.requested.extend(wanted)
        return self.inner.nodes(wanted)

    def size(self) -> int:
        return self.inner.size()

    def leaves(self, start: int, end: int) -> Iterator[LeafRow]:
        raise AssertionError(f"a proof must not read leaves ({start}..{end})")

    def node_count(self) -> int:
        return self.inner.node_count()

    def checkpoints(self) -> Iterator[StoredCheckpoint]:
        return self.inner.checkpoints()

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        return self.inner.latest_checkpoint()

    def checkpoint_at(self, tree_size: int) -> StoredCheckpoint | None:
        return self.inner.checkpoint_at(tree_size)

    def add_log_key(self, vkey: str, created_at: datetime) -> None:
        self.inner.add_log_key(vkey, created_at)

    def log_keys(self) -> list[str]:
        return self.inner.log_keys()

    def learner_heads(self, since: int) -> list[LearnerHead]:
        return self.inner.learner_heads(since)

    def transaction(self) -> AbstractContextManager[LogTransaction]:
        return self.inner.transaction()


def fill_with_raw_leaves(store: LogStore, size: int, now: datetime) -> list[bytes]:
    """Write ``size`` synthetic leaves straight through the store contract (no signatures)."""
    leaves = [b"leaf %d" % i for i in range(size)]
    compact = CompactRange()
    nodes: list[tuple[NodeId, bytes]] = []
    for leaf in leaves:
        nodes.extend(compact.append(leaf_hash(leaf)))
    rows = [LeafRow(i, leaf, "raw", f"nonce-{i:08d}", "raw.leaf") for i, leaf in enumerate(leaves)]
    with store.transaction() as tx:
        assert tx.size() == 0
        tx.write(rows, nodes, StoredCheckpoint(size, compact.root(), "unsigned", now))
    return leaves


BIG = 2**14 + 2**9 + 5


def test_proofs_at_a_large_size_read_o_log_n_nodes(log_store: LogStore, now: datetime) -> None:
    leaves = fill_with_raw_leaves(log_store, BIG, now)
    counting = CountingStore(log_store)
    log = Log(counting, origin=ORIGIN)
    statements = count_statements(log_store)
    depth = (BIG - 1).bit_length()  # 15
    reference: dict[NodeId, bytes] = {}
    compact = CompactRange()
    for leaf in leaves:
        reference.update(compact.append(leaf_hash(leaf)))
    for index in (0, 1, 777, 2**14 - 1, 2**14, BIG - 2, BIG - 1):
        counting.requested.clear()
        statements.clear()
        got = log.inclusion_proof(index, BIG)
        assert got == merkle.inclusion_proof_from_nodes(index, BIG, reference.__getitem__)
        merkle_verify.verify_inclusion(leaf_hash(leaves[index]), index, BIG, got, compact.root())
        assert len(counting.requested) <= 2 * depth
        assert len(statements) <= 2  # the latest checkpoint, then all nodes in one query
    for old in (1, 3, 1000, 2**14, BIG - 1):
        counting.requested.clear()
        statements.clear()
        got = log.consistency_proof(old, BIG)
        assert got == merkle.consistency_proof_from_nodes(old, BIG, reference.__getitem__)
        assert len(counting.requested) <= 2 * depth
        assert len(statements) <= 2
    counting.requested.clear()
    assert log.root(BIG) == compact.root()
    assert len(counting.requested) == bin(BIG).count("1")


def count_statements(store: LogStore) -> list[str]:
    """SELECT statements the store sends from now on (always none for the memory store)."""
    seen: list[str] = []
    if isinstance(store, SqlLogStore):

        def record(*args: Any) -> None:
            if args[2].lstrip().upper().startswith("SELECT"):
                seen.append(args[2])

        event.listen(store.engine, "before_cursor_execute", record)
    return seen


def test_leaf_rows_parse_back(ledger: Log, make_entries: MakeEntries, now: datetime) -> None:
    entries = make_entries(3)
    ledger.append(entries, now=now)
    for (index, leaf), entry in zip(ledger.leaves(0, 3), entries, strict=True):
        assert isinstance(leaf, Leaf)
        assert leaf.entry.canonical == entry.entry.canonical
        assert leaf.integrated_at.startswith("2026-11-24T09:30:00")
        assert index == entries.index(entry)


def test_concurrent_writers_never_fork_the_tree(
    ledger: Log, make_entries: MakeEntries, now: datetime, log_signer: NoteSigner
) -> None:
    batches = [make_entries(7) for _ in range(12)]
    errors: list[BaseException] = []

    def writer(mine: list[list[SignedEntry]]) -> None:
        log = Log(ledger.store, origin=ORIGIN, signer=log_signer)
        try:
            for batch in mine:
                log.append(batch, now=now)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(batches[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    leaves = stored_leaves(ledger.store)
    assert len(leaves) == ledger.size() == 84
    assert sorted(leaves) == sorted(Leaf.wrap(e, now).data for b in batches for e in b)
    assert ledger.root() == merkle.root_hash(leaves)
    assert ledger.store.node_count() == expected_node_count(84)
    sizes = [cp.tree_size for cp in ledger.store.checkpoints()]
    assert sizes == [0, *range(7, 85, 7)]


def test_learner_heads_commit_with_their_batch_and_replace_in_place(
    log_store: LogStore, now: datetime
) -> None:
    def head(learner: str, count: int, index: int) -> LearnerHead:
        return LearnerHead(learner, IndexValue(count, index, leaf_hash(b"%d" % index)))

    rows = [LeafRow(i, b"leaf %d" % i, "raw", f"nonce-{i}", "raw.leaf") for i in range(4)]
    compact = CompactRange()
    nodes = [list(compact.append(leaf_hash(row.data))) for row in rows]
    with log_store.transaction() as tx:
        tx.write(
            rows[:2],
            nodes[0] + nodes[1],
            StoredCheckpoint(2, b"r" * 32, "-", now),
            [head("A", 1, 0), head("B", 1, 1)],
        )
    with pytest.raises(RuntimeError), log_store.transaction() as tx:
        tx.write(
            rows[2:],
            nodes[2] + nodes[3],
            StoredCheckpoint(4, b"r" * 32, "-", now),
            [head("A", 9, 9)],
        )
        raise RuntimeError("the batch fails after staging")
    assert sorted(log_store.learner_heads(0), key=lambda h: h.learner) == [
        head("A", 1, 0),
        head("B", 1, 1),
    ]
    with log_store.transaction() as tx:
        assert tx.learner_heads(1) == [head("B", 1, 1)]
        tx.write(
            rows[2:],
            nodes[2] + nodes[3],
            StoredCheckpoint(4, b"r" * 32, "-", now),
            [head("A", 2, 3)],
        )
    assert sorted(log_store.learner_heads(0), key=lambda h: h.learner) == [
        head("A", 2, 3),
        head("B", 1, 1),
    ]
    assert log_store.learner_heads(2) == [head("A", 2, 3)]
