"""What the public learner-index routes serve: the latest index entry, and a learner's map proof.

Both answers are self-verifying: a signed checkpoint, the ``ledger.learner_index`` entry with its
inclusion proof under that checkpoint, and (for a learner) the map proof under the entry's root
plus the learner's entries after a given count, each with its inclusion proof. ``creditbank
verify-transcript --online`` uses them to tell "true then, still true now" from "changed since".
"""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import desc
from sqlmodel import Session, col, select

from creditbank.accounts.tables import LearnerRow
from creditbank.accounts.transcript import learner_indices
from creditbank.errors import NotFoundError, StorageError
from creditbank.ledger import LogEntryRow
from creditbank.ledger.chain import INDEX_ENTRY_TYPE, PublishedIndex
from creditbank.ledger.learner_index import LearnerIndexView
from creditbank.ledger.log import Log
from creditbank.ledger.merkle import leaf_hash

__all__ = ["latest_index_entry", "learner_index_proof"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _proven(log: Log, index: int, size: int) -> dict[str, Any]:
    leaf = log.leaf(index)
    return {
        "index": index,
        "leaf": leaf.to_json(),
        "leaf_hash": _b64(leaf_hash(leaf.data)),
        "inclusion_proof": [_b64(h) for h in log.inclusion_proof(index, size)],
    }


def _published(log: Log) -> PublishedIndex:
    if log.chains is None:
        raise NotFoundError("this log keeps no learner index")
    published = log.chains.current(log.store.leaves, log.store.learner_heads, log.store.size())
    if published.entry_index is None:
        raise NotFoundError("the log has no learner index entry yet")
    return published


def _at(session: Session, log: Log, tree_size: int | None) -> tuple[int, int, LearnerIndexView]:
    """(checkpoint size, index entry position, index view) as of ``tree_size`` (default latest)."""
    published = _published(log)
    assert published.entry_index is not None
    if tree_size is None or tree_size == published.tree_size:
        return published.tree_size, published.entry_index, published.view
    if tree_size > published.tree_size:
        raise NotFoundError(f"tree size {tree_size} is beyond the latest ({published.tree_size})")
    if log.store.checkpoint_at(tree_size) is None:
        raise NotFoundError(f"there is no checkpoint at tree size {tree_size}")
    position = session.exec(
        select(LogEntryRow.idx)
        .where(LogEntryRow.entry_type == INDEX_ENTRY_TYPE, col(LogEntryRow.idx) < tree_size)
        .order_by(desc(col(LogEntryRow.idx)))
        .limit(1)
    ).first()
    if position is None:
        raise NotFoundError(f"no learner index entry before tree size {tree_size}")
    return tree_size, position, log.chains.view_at(position, log.store.leaves)  # type: ignore[union-attr]


def _checkpoint(log: Log, size: int) -> str:
    stored = log.store.checkpoint_at(size)
    if stored is None:
        raise StorageError(f"no checkpoint at tree size {size}")
    return stored.note


def latest_index_entry(session: Session, log: Log) -> dict[str, Any]:
    size, position, view = _at(session, log, None)
    return {
        "tree_size": size,
        "checkpoint": _checkpoint(log, size),
        "index_entry": _proven(log, position, size),
        "learners": len(view),
    }


def learner_index_proof(
    session: Session, log: Log, learner_id: str, *, tree_size: int | None = None, since: int = 0
) -> dict[str, Any]:
    """The learner's map proof as of ``tree_size`` and their entries with seq > ``since``."""
    size, position, view = _at(session, log, tree_size)
    value, proof = view.prove(learner_id)
    entries: list[dict[str, Any]] = []
    learner = session.get(LearnerRow, learner_id)
    if value is not None and value.count > since and learner is not None:
        for index in sorted(i for i in learner_indices(session, learner) if i < position):
            leaf = log.leaf(index)
            if leaf.chain is not None and leaf.chain.seq > since:
                entries.append(_proven(log, index, size))
    return {
        "learner_id": learner_id,
        "tree_size": size,
        "checkpoint": _checkpoint(log, size),
        "index_entry": _proven(log, position, size),
        "value": value.to_json() if value else None,
        "map_proof": proof.to_json(),
        "since": since,
        "entries": entries,
    }
