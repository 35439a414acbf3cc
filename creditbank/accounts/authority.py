"""Replay who may sign what, over the whole log, trusting nothing but the log itself.

The ledger audit proves the stored bytes are the ones the log signed. This check proves every
entry was *authorised*: its signing key was registered to its actor (by an entry earlier in the
log) and not revoked before it, and that actor's role may sign that entry type. The chain starts at
index 0, the system actor's self-signed genesis. An auditor runs it with ``creditbank verify``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from creditbank.accounts.kinds import KINDS
from creditbank.errors import CreditbankError, TamperError
from creditbank.ledger.entry import Leaf, key_id_of
from creditbank.ledger.store import LogStore

__all__ = ["AuthorityReport", "audit_authority"]


@dataclass(frozen=True)
class AuthorityReport:
    entries: int
    actors: int
    keys: int


def audit_authority(
    store: LogStore, *, progress: Callable[[int], None] | None = None
) -> AuthorityReport:
    """Raise :class:`TamperError` at the first entry its signer was not entitled to sign."""
    roles: dict[str, str] = {}
    keys: dict[str, str] = {}  # key id -> actor, for keys currently valid
    seen_keys = 0
    size = store.size()
    for row in store.leaves(0, size):
        try:
            leaf = Leaf.from_bytes(row.data)
        except CreditbankError as exc:
            raise TamperError(f"entry {row.index}: {exc}", index=row.index) from None
        entry, body = leaf.entry, leaf.entry.body
        spec = KINDS.get(entry.type)
        if spec is None:
            raise TamperError(f"entry {row.index}: unknown type {entry.type}", index=row.index)
        genesis = (
            row.index == 0
            and entry.type == "actor.registered"
            and body.get("role") == "system"
            and body.get("actor_id") == entry.actor
            and body.get("public_key") == leaf.signed.public_key
        )
        if row.index == 0 and not genesis:
            raise TamperError("entry 0 is not the system actor's self-signed genesis", index=0)
        if not genesis:
            owner = keys.get(leaf.signed.key_id)
            if owner != entry.actor:
                raise TamperError(
                    f"entry {row.index}: signed with key {leaf.signed.key_id}, which was not a "
                    f"valid key of {entry.actor} at that point",
                    index=row.index,
                )
            if roles.get(entry.actor) not in spec.signers:
                raise TamperError(
                    f"entry {row.index}: {entry.actor} ({roles.get(entry.actor)}) may not sign "
                    f"{entry.type}",
                    index=row.index,
                )
        if entry.type == "actor.registered":
            roles[body["actor_id"]] = body["role"]
            keys[key_id_of(body["public_key"])] = body["actor_id"]
            seen_keys += 1
        elif entry.type == "actor.key_added":
            keys[key_id_of(body["public_key"])] = body["actor_id"]
            seen_keys += 1
        elif entry.type == "actor.key_revoked":
            keys.pop(body["key_id"], None)
        if progress is not None and row.index % 1000 == 0:
            progress(row.index + 1)
    if progress is not None:
        progress(size)
    return AuthorityReport(entries=size, actors=len(roles), keys=seen_keys)
