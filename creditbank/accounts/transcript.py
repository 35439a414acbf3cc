"""Verifiable transcripts: a learner's entries with the proofs that they are in the log, and all.

A transcript is a JSON bundle a worker can hand to an employer or another university. It holds the
learner's entries (leaf objects), an RFC 9162 inclusion proof for each, the signed checkpoint they
are proven against, and the registrations of every actor who signed them (so that the checker can
see each signing key belonged to its actor). :func:`verify_transcript` checks it offline with
nothing but the log's verifier key: no server, no database, no trust in us.

Version 2 (``creditbank-transcript/v2``) adds ``completeness``: the learner index entry covering
the checkpoint, its inclusion proof, and the learner's map proof under its root; with the chain
link in every leaf this proves the bundle holds *every* entry about the learner as of that tree
size (see :mod:`creditbank.accounts.completeness`), and optionally ``witnessed``: a checkpoint
cosigned by witnesses and a consistency proof from it. Version 1 bundles still verify, reported as
not proven complete. The format is documented in ``docs/transcripts.md``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from creditbank.accounts.tables import (
    ActorKeyRow,
    CertificateRow,
    ConversionRow,
    CreditRow,
    LearnerRow,
)
from creditbank.accounts.transcript_verify import (
    TRANSCRIPT_FORMAT,
    TRANSCRIPT_V1,
    ProvenCredits,
    verify_transcript,
)
from creditbank.errors import (
    NotFoundError,
    StorageError,
)
from creditbank.ledger import LogEntryRow, SqlLogStore
from creditbank.ledger.log import Log
from creditbank.ledger.merkle import NodeId, leaf_hash
from creditbank.ledger.proof_batch import InclusionPlan

__all__ = [
    "TRANSCRIPT_FORMAT",
    "TRANSCRIPT_V1",
    "ProvenCredits",
    "build_transcript",
    "verify_transcript",
]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class _Stored:
    """A stored leaf as the builder needs it: its bytes and their JSON. The bundle's reader checks
    everything; the builder only copies (the audit checks what the store holds)."""

    data: bytes
    obj: dict[str, Any]

    @property
    def actor(self) -> str:
        return str(self.obj["entry"]["actor"])

    @property
    def chained(self) -> bool:
        return "chain" in self.obj


def _fetch_leaves(session: Session, log: Log, indices: Iterable[int]) -> dict[int, _Stored]:
    """Many leaves in one query (a learner's entries are scattered over the log)."""
    wanted = sorted(set(indices))
    if not isinstance(log.store, SqlLogStore):
        return {i: _Stored(log.leaf(i).data, log.leaf(i).to_json()) for i in wanted}
    found: dict[int, _Stored] = {}
    connection = session.connection()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stmt = sa.select(col(LogEntryRow.idx), col(LogEntryRow.leaf)).where(
            col(LogEntryRow.idx).in_(chunk)
        )
        for index, data in connection.execute(stmt):
            raw = bytes(data)
            found[index] = _Stored(raw, json.loads(raw))
    missing = set(wanted) - set(found)
    if missing:
        raise StorageError(f"entries {sorted(missing)[:5]} are missing from the log")
    return found


def _proven_entries(log: Log, leaves: dict[int, _Stored], size: int) -> list[dict[str, Any]]:
    """Every entry with its inclusion proof; the tree nodes of all proofs in one read, and the
    hashes the proofs share (the tree's right edge) computed once (ledger/proof_batch.py)."""
    plan = InclusionPlan(sorted(leaves), size)
    nodes = log.store.nodes(plan.nodes)

    def lookup(node: NodeId) -> bytes:
        try:
            return nodes[node]
        except KeyError:
            raise StorageError(f"tree node {node} is missing from the store") from None

    proofs = plan.proofs(lookup)
    return [
        {
            "index": index,
            "leaf": leaves[index].obj,
            "leaf_hash": _b64(leaf_hash(leaves[index].data)),
            "inclusion_proof": [_b64(h) for h in proofs[index]],
        }
        for index in sorted(leaves)
    ]


def learner_indices(session: Session, learner: LearnerRow) -> set[int]:
    """The log indices of every entry the read models record about a learner, in one query."""
    learner_id = learner.learner_id
    parts = [
        sa.select(col(CertificateRow.issued_index)).where(
            col(CertificateRow.learner_id) == learner_id
        ),
        sa.select(col(CertificateRow.revoked_index)).where(
            col(CertificateRow.learner_id) == learner_id
        ),
        sa.select(col(CreditRow.earned_index)).where(col(CreditRow.learner_id) == learner_id),
        sa.select(col(ConversionRow.posted_index)).where(
            col(ConversionRow.learner_id) == learner_id
        ),
        sa.select(col(ConversionRow.reversed_index)).where(
            col(ConversionRow.learner_id) == learner_id
        ),
    ]
    rows = session.connection().execute(sa.union_all(*parts)).scalars()
    return {learner.registered_index, *(int(i) for i in rows if i is not None)}


#: The columns of a key row the builder needs (plain tuples: no ORM objects to build).
_KEY_COLUMNS = (
    col(ActorKeyRow.public_key),
    col(ActorKeyRow.actor_id),
    col(ActorKeyRow.key_id),
    col(ActorKeyRow.added_index),
    col(ActorKeyRow.revoked_index),
    col(ActorKeyRow.recovered_index),
)


def _add_authority(
    session: Session, log: Log, leaves: dict[int, _Stored], size: int
) -> dict[str, tuple[str, str, int]]:
    """The chain of authority: the key entries of every signer, then of whoever signed those,
    up to the self-signed genesis of the system actor (one key query and one leaf query per
    step). Returns the recovered keys met on the way: public key -> (actor, key id, recovery
    index), for :func:`_recovered_signatures`."""
    pending = {leaf.actor for leaf in leaves.values()}
    seen: set[str] = set()
    recovered: dict[str, tuple[str, str, int]] = {}
    while pending:
        seen |= pending
        stmt = sa.select(*_KEY_COLUMNS).where(col(ActorKeyRow.actor_id).in_(pending))
        pending = set()
        needed: list[int] = []
        for (
            public_key,
            actor_id,
            key_id,
            added,
            revoked,
            recovered_by,
        ) in session.connection().execute(stmt):
            if recovered_by is not None:
                recovered[public_key] = (actor_id, key_id, recovered_by)
            for index in (added, revoked):
                if index is not None and index < size and index not in leaves:
                    needed.append(index)
        for index, leaf in _fetch_leaves(session, log, needed).items():
            leaves[index] = leaf
            pending.add(leaf.actor)
        pending -= seen
    return recovered


def _recovered_signatures(
    leaves: dict[int, _Stored], recovered: dict[str, tuple[str, str, int]]
) -> list[dict[str, Any]]:
    """The bundle's entries signed under keys an admin recovered, as the verifier derives them."""
    flagged = []
    for index in sorted(leaves) if recovered else ():
        key = recovered.get(leaves[index].obj["signature"]["public_key"])
        if key is not None:
            flagged.append(
                {"index": index, "actor": key[0], "key_id": key[1], "recovered_by": key[2]}
            )
    return flagged


def build_transcript(
    session: Session, log: Log, learner_id: str, *, witnessed: tuple[int, str] | None = None
) -> dict[str, Any]:
    """Collect a learner's entries and prove each, and their completeness, at one checkpoint.

    ``witnessed``: the latest cosigned checkpoint ``(size, note)``, if witnesses are configured.
    """
    learner = session.get(LearnerRow, learner_id)
    if learner is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")
    published = None
    if log.chains is not None:
        published = log.chains.current(log.store.leaves, log.store.learner_heads, log.store.size())
    if published is not None:
        stored = log.store.checkpoint_at(published.tree_size)
        if stored is None:
            raise StorageError(f"no checkpoint at tree size {published.tree_size}")
        checkpoint = stored
    else:
        checkpoint = log.latest_checkpoint()
    size = checkpoint.tree_size
    leaves = _fetch_leaves(session, log, (i for i in learner_indices(session, learner) if i < size))
    completeness: dict[str, Any] | None = None
    # Entries appended before the log kept chains (an older log) carry no link: then the bundle
    # cannot prove completeness, and says nothing about it (verified as "not proven complete").
    legacy = any(not leaf.chained for leaf in leaves.values())
    if published is not None and published.entry_index is not None and not legacy:
        value, proof = published.view.prove(learner_id)
        chained = sum(1 for leaf in leaves.values() if leaf.chained)
        if (value.count if value else 0) != chained:
            raise StorageError(
                f"the read models list {chained} chained entries of {learner_id} but the learner "
                f"index has {value.count if value else 0}; run `creditbank verify`"
            )
        entry_index = published.entry_index
        leaves.update(_fetch_leaves(session, log, [entry_index]))
        completeness = {
            "index_entry": entry_index,
            "value": value.to_json() if value else None,
            "map_proof": proof.to_json(),
        }
    recovered = _add_authority(session, log, leaves, size)
    verifier = log.verifier if log.signer is not None else None
    bundle: dict[str, Any] = {
        "format": TRANSCRIPT_FORMAT,
        "learner_id": learner_id,
        "log": {
            "origin": log.origin,
            "verifier_key": verifier.vkey if verifier else None,
            "key_id": verifier.key_id.hex() if verifier else None,
        },
        "checkpoint": checkpoint.note,
        "tree_size": size,
        "entries": _proven_entries(log, leaves, size),
        "completeness": completeness,
        "recovered_signatures": _recovered_signatures(leaves, recovered),
    }
    if witnessed is not None and 0 < witnessed[0] <= size:
        bundle["witnessed"] = {
            "checkpoint": witnessed[1],
            "consistency_proof": [_b64(h) for h in log.consistency_proof(witnessed[0], size)],
        }
    return bundle
