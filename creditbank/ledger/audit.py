"""Audit a stored log from scratch, trusting nothing the database says about itself.

:func:`audit_log` re-reads every leaf, checks its bytes are canonical and its signature verifies,
re-hashes it, rebuilds every complete subtree and compares it with the stored one, recomputes the
root at every checkpointed size and checks each checkpoint's signature (against keys the auditor
passes in, or else the log's own key records). It raises :class:`~creditbank.errors.TamperError`
naming the first bad index and what is wrong, and otherwise returns an :class:`AuditReport`.

Leaves are checked in chunks; with ``workers > 1`` chunks go to worker processes (parsing and
Ed25519 verification are CPU-bound and spread over cores), while the tree is rebuilt in order in
this process with O(log n) memory.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from creditbank.errors import CreditbankError, TamperError, VerificationError
from creditbank.ledger.chain import ChainAudit, ChainEvent, chain_event
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.entry import Leaf
from creditbank.ledger.merkle import EMPTY_ROOT, CompactRange, NodeId, leaf_hash
from creditbank.ledger.store import LeafRow, LogStore, StoredCheckpoint

__all__ = ["AuditReport", "audit_log", "check_leaf_rows"]

_CHUNK = 2000

Checked = tuple[list[bytes], list[ChainEvent]]


@dataclass(frozen=True)
class AuditReport:
    tree_size: int
    root_hash: bytes
    checkpoints_checked: int
    signatures_checked: int
    index_entries_checked: int = 0


def check_leaf_rows(
    rows: Sequence[tuple[int, bytes, str, str, str]],
) -> tuple[list[bytes], list[ChainEvent]]:
    """Check leaves independently of each other; return their leaf hashes, in order, and the
    learner-chain and index events among them (checked in order by :class:`ChainAudit`).

    Module-level and over plain tuples so worker processes can run it.
    """
    hashes: list[bytes] = []
    events: list[ChainEvent] = []
    for index, data, actor, nonce, entry_type in rows:
        try:
            leaf = Leaf.from_bytes(data)
            leaf.signed.verify()
        except CreditbankError as exc:
            raise TamperError(f"entry {index}: {exc}", index=index) from None
        entry = leaf.entry
        if (entry.actor, entry.nonce, entry.type) != (actor, nonce, entry_type):
            raise TamperError(
                f"entry {index}: stored actor/nonce/type columns disagree with the leaf bytes",
                index=index,
            )
        hashes.append(leaf_hash(data))
        event = chain_event(index, leaf, hashes[-1])
        if event is not None:
            events.append(event)
    return hashes, events


def _chunks(store: LogStore, size: int) -> Iterator[list[tuple[int, bytes, str, str, str]]]:
    expected = 0
    chunk: list[tuple[int, bytes, str, str, str]] = []
    row: LeafRow
    for row in store.leaves(0, size):
        if row.index != expected:
            if chunk:  # check the entries before the gap first: an earlier problem wins
                yield chunk
            raise TamperError(
                f"entry {expected} is missing (the next stored entry is {row.index})",
                index=expected,
            )
        chunk.append((row.index, row.data, row.actor, row.nonce, row.entry_type))
        expected += 1
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    if expected != size:
        raise TamperError(
            f"entry {expected} is missing (the log head says {size} entries)", index=expected
        )


def _covered(node: NodeId) -> str:
    first = node.index << node.level
    if node.level == 0:
        return f"entry {first}"
    return f"entries {first}..{first + (1 << node.level) - 1}"


def audit_log(
    store: LogStore,
    *,
    origin: str,
    trusted: Sequence[NoteVerifier] | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Verify the whole log; raise at the first inconsistency. See the module docstring."""
    size = store.size()
    verifiers = list(trusted) if trusted else [NoteVerifier.from_vkey(k) for k in store.log_keys()]
    if not verifiers:
        raise TamperError("no log verifier key is on record and none was given")
    checkpoints = _open_checkpoints(list(store.checkpoints()), verifiers, origin, size)
    by_size: dict[int, list[StoredCheckpoint]] = {}
    for cp in checkpoints:
        by_size.setdefault(cp.tree_size, []).append(cp)
    _check_roots(by_size.pop(0, []), EMPTY_ROOT)

    compact = CompactRange()
    chains = ChainAudit()
    pool: ProcessPoolExecutor | None = None
    if workers > 1 and size > 2 * _CHUNK:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        pending: deque[Future[Checked] | Checked] = deque()
        done = 0
        try:
            for chunk in _chunks(store, size):
                pending.append(
                    pool.submit(check_leaf_rows, chunk) if pool else check_leaf_rows(chunk)
                )
                while len(pending) > (2 * workers if pool else 0):
                    done = _absorb(
                        store, compact, chains, pending.popleft(), by_size, done, progress
                    )
        except TamperError:
            # A gap in the stored entries; entries before it that are still being checked may
            # hold an earlier problem, and the first bad index is the one to report.
            while pending:
                done = _absorb(store, compact, chains, pending.popleft(), by_size, done, progress)
            raise
        while pending:
            done = _absorb(store, compact, chains, pending.popleft(), by_size, done, progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    if next(iter(store.leaves(size, size + 1)), None) is not None:
        raise TamperError(f"entry {size} is stored beyond the log head (size {size})", index=size)
    expected_nodes = sum(size >> level for level in range(size.bit_length()))
    stored_nodes = store.node_count()
    if stored_nodes != expected_nodes:
        raise TamperError(
            f"the store holds {stored_nodes} tree nodes; a tree of {size} entries has {expected_nodes}"
        )
    # The stored learner heads are a cache the log loads instead of replaying: check it too.
    chains.check_stored(store.learner_heads(0), size)
    return AuditReport(size, compact.root(), len(checkpoints), size, chains.index_entries)


def _open_checkpoints(
    stored: list[StoredCheckpoint], verifiers: list[NoteVerifier], origin: str, size: int
) -> list[StoredCheckpoint]:
    if not stored:
        raise TamperError("the log has no checkpoint")
    for cp in stored:
        try:
            parsed = Checkpoint.open(cp.note, verifiers, origin=origin)
        except VerificationError as exc:
            raise TamperError(f"checkpoint at tree size {cp.tree_size}: {exc}") from None
        if (parsed.size, parsed.root_hash) != (cp.tree_size, cp.root_hash):
            raise TamperError(
                f"checkpoint at tree size {cp.tree_size}: its signed text says size {parsed.size} "
                "with another root than the stored columns"
            )
        if cp.tree_size > size:
            raise TamperError(
                f"a signed checkpoint covers {cp.tree_size} entries but the log has only {size}: "
                f"entries {size}..{cp.tree_size - 1} are missing",
                index=size,
            )
    return stored


def _check_roots(checkpoints: list[StoredCheckpoint], root: bytes) -> None:
    for cp in checkpoints:
        if cp.root_hash != root:
            raise TamperError(
                f"the entries do not produce the signed root of checkpoint {cp.tree_size}: "
                f"an entry before index {cp.tree_size} was altered",
                index=cp.tree_size - 1 if cp.tree_size else None,
            )


def _absorb(
    store: LogStore,
    compact: CompactRange,
    chains: ChainAudit,
    result: Future[Checked] | Checked,
    by_size: dict[int, list[StoredCheckpoint]],
    done: int,
    progress: Callable[[int], None] | None,
) -> int:
    hashes, events = result.result() if isinstance(result, Future) else result
    chains.apply(events)
    created: list[tuple[NodeId, bytes]] = []
    roots_due: list[tuple[list[StoredCheckpoint], bytes]] = []
    for hashed in hashes:
        created.extend(compact.append(hashed))
        if compact.size in by_size:
            roots_due.append((by_size.pop(compact.size), compact.root()))
    # Nodes first: a mismatching node names the entries precisely; a root mismatch cannot.
    stored = store.nodes(node for node, _ in created)
    for node, expected in created:
        found = stored.get(node)
        if found is None:
            raise TamperError(
                f"tree node level {node.level} index {node.index} ({_covered(node)}) is missing",
                index=node.index << node.level,
            )
        if found != expected:
            raise TamperError(
                f"stored tree node level {node.level} index {node.index} ({_covered(node)}) "
                "does not match the entries",
                index=node.index << node.level,
            )
    for due, root in roots_due:
        _check_roots(due, root)
    done += len(hashes)
    if progress is not None:
        progress(done)
    return done
