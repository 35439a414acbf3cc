"""The stored learner heads: what a new process loads instead of replaying every leaf.

The heads are a cache of what the leaves say, so each test also checks that it cannot lie: a fresh
process refuses to append over an edited row, and the audit names the learner.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from creditbank.accounts.migrate import downgrade, upgrade
from creditbank.errors import TamperError
from creditbank.ledger.audit import audit_log
from creditbank.ledger.chain import LearnerChains, derive_heads
from creditbank.ledger.store import LeafRow, LearnerHead, LogStore
from tests.accounts.conftest import ORIGIN, World


def _heads(store: LogStore) -> dict[str, tuple[int, int, bytes]]:
    return {
        h.learner: (h.value.count, h.value.head_index, h.value.head_leaf_hash)
        for h in store.learner_heads(0)
    }


def _derived(store: LogStore) -> dict[str, tuple[int, int, bytes]]:
    derived = derive_heads(store.leaves(0, store.size()))
    return {k: (v.count, v.head_index, v.head_leaf_hash) for k, v in derived.items()}


@pytest.fixture
def learners(world: World) -> World:
    world.register_learner("L-1")
    world.register_learner("L-2")
    world.issue("C-1", "L-1")
    return world


def test_a_new_process_loads_the_heads_and_reads_only_the_last_batch(learners: World) -> None:
    log = learners.bank.log
    store = log.store
    assert log.chains is not None and log.chains.published is not None
    assert _heads(store) == _derived(store) and set(_heads(store)) == {"L-1", "L-2"}
    read: list[tuple[int, int]] = []
    since: list[int] = []

    def rows(start: int, end: int) -> Iterator[LeafRow]:
        read.append((start, end))
        return store.leaves(start, end)

    def heads(after: int) -> list[LearnerHead]:
        since.append(after)
        return store.learner_heads(after)

    fresh = LearnerChains(log.chains.make_index_entry)
    fresh.catch_up(rows, heads, store.size())
    assert fresh.published is not None and fresh.published.entry_index is not None
    assert fresh.published.view.root() == log.chains.published.view.root()
    assert fresh.published.entry_index == log.chains.published.entry_index
    last_head = max(v[1] for v in _heads(store).values())
    assert read and min(start for start, _ in read) == last_head + 1  # no leaf before it

    learners.issue("C-2", "L-2")  # another process appends: only L-2's head moves
    synced = fresh.synced
    read.clear()
    fresh.catch_up(rows, heads, store.size())
    assert since[-1] == synced and [h.learner for h in store.learner_heads(synced)] == ["L-2"]
    assert min(start for start, _ in read) > synced  # only the new batch's leaves
    assert (
        fresh.published.view.root()
        == log.chains.current(store.leaves, store.learner_heads, store.size()).view.root()
    )


def test_an_edited_heads_row_is_refused_on_append_and_named_by_verify(learners: World) -> None:
    log = learners.bank.log
    store = log.store
    engine: Engine = learners.bank.engine
    with engine.begin() as conn:
        conn.execute(text("UPDATE log_learner_heads SET count = count + 1 WHERE learner = 'L-1'"))
    with pytest.raises(TamperError, match="learner L-1's count is 3 in the table, 2 rebuilt"):
        audit_log(store, origin=ORIGIN)
    assert log.chains is not None
    log.chains.invalidate()  # what a process starting now has: nothing in memory
    size = store.size()
    with pytest.raises(TamperError, match="stored learner heads do not make the root"):
        learners.issue("C-3", "L-1")
    assert store.size() == size  # nothing was appended over the bad row
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM log_learner_heads WHERE learner = 'L-2'"))
        conn.execute(text("UPDATE log_learner_heads SET count = count - 1 WHERE learner = 'L-1'"))
    with pytest.raises(TamperError, match="learner L-2 has entries in the log .* but no row"):
        audit_log(store, origin=ORIGIN)


def test_the_migration_fills_the_heads_from_an_existing_log(learners: World) -> None:
    store = learners.bank.log.store
    engine: Engine = learners.bank.engine
    before = _heads(store)
    downgrade(engine, "0008")  # drops the table
    upgrade(engine)
    assert _heads(store) == before
    audit_log(store, origin=ORIGIN)
