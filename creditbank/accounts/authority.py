"""Replay who may sign what, over the whole log, trusting nothing but the log itself.

The ledger audit proves the stored bytes are the ones the log signed. This check proves every
entry was *authorised*: its signing key was registered to its actor (by an entry earlier in the
log) and not revoked before it, and that actor's role may sign that entry type. The chain starts at
index 0, the system actor's self-signed genesis. An auditor runs it with ``creditbank verify``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from creditbank.accounts.kinds import KINDS
from creditbank.accounts.kinds.actor_key_recovered import (
    DEFAULT_DELAY_DAYS,
    check_recovery_target,
    usable_from,
)
from creditbank.accounts.kinds.actor_key_recovery_cancelled import check_cancel
from creditbank.accounts.kinds.common import check_key_authority
from creditbank.errors import CreditbankError, PermissionDenied, TamperError
from creditbank.ledger.entry import Leaf, format_time, key_id_of, parse_time
from creditbank.ledger.store import LogStore

__all__ = ["AuthorityReport", "RecoveredSignature", "audit_authority"]


@dataclass(frozen=True)
class RecoveredSignature:
    """An entry signed under a key an admin recovered (flagged, not refused: see security.md)."""

    index: int
    actor: str
    key_id: str
    #: The ``actor.key_recovered`` entry that gave the key.
    recovered_by: int


@dataclass(frozen=True)
class AuthorityReport:
    entries: int
    actors: int
    keys: int
    #: Every entry signed under a recovered key, in log order.
    recovered: tuple[RecoveredSignature, ...] = ()


def audit_authority(
    store: LogStore, *, progress: Callable[[int], None] | None = None, audited: int = 0
) -> AuthorityReport:
    """Raise :class:`TamperError` at the first entry its signer was not entitled to sign.

    ``audited``: the first entries a ledger audit of this run has checked byte for byte; they
    are decoded without re-deriving their canonical form (:meth:`Leaf.from_audited_bytes`)."""
    roles: dict[str, str] = {}
    keys: dict[str, str] = {}  # key id -> actor, for keys currently valid
    recovered: dict[str, tuple[int, str]] = {}  # key id -> (recovery index, usable from)
    flagged: list[RecoveredSignature] = []
    seen_keys = 0
    size = store.size()
    for row in store.leaves(0, size):
        try:
            if row.index < audited:
                leaf = Leaf.from_audited_bytes(row.data)
            else:
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
            if leaf.signed.key_id in recovered:
                flagged.append(_recovered_use(row.index, leaf, recovered[leaf.signed.key_id]))
            if roles.get(entry.actor) not in spec.signers:
                raise TamperError(
                    f"entry {row.index}: {entry.actor} ({roles.get(entry.actor)}) may not sign "
                    f"{entry.type}",
                    index=row.index,
                )
        if entry.type in _KEY_CHANGES:
            _check_key_change(row.index, entry.type, body, entry.actor, roles.get(entry.actor))
        seen_keys += _apply_key_entry(row.index, leaf, roles, keys, recovered)
        if progress is not None and row.index % 1000 == 0:
            progress(row.index + 1)
    if progress is not None:
        progress(size)
    return AuthorityReport(
        entries=size,
        actors=len(roles),
        keys=seen_keys,
        recovered=tuple(flagged),
    )


def _apply_key_entry(
    index: int,
    leaf: Leaf,
    roles: dict[str, str],
    keys: dict[str, str],
    recovered: dict[str, tuple[int, str]],
) -> int:
    """Update who holds which key after ``leaf``; return how many keys it added (0 or 1)."""
    entry_type, body = leaf.entry.type, leaf.entry.body
    if entry_type == "actor.registered":
        roles[body["actor_id"]] = body["role"]
    elif entry_type == "actor.key_recovered":
        delay = body.get("delay_days", DEFAULT_DELAY_DAYS)
        key_id = key_id_of(body["public_key"])
        recovered[key_id] = (index, usable_from(leaf.integrated_at, delay))
    elif entry_type == "actor.key_recovery_cancelled":
        _check_cancel_in_time(index, leaf, body, recovered)
    if entry_type in ("actor.registered", "actor.key_added", "actor.key_recovered"):
        keys[key_id_of(body["public_key"])] = body["actor_id"]
        return 1
    if entry_type in ("actor.key_revoked", "actor.key_recovery_cancelled"):
        keys.pop(body["key_id"], None)
    return 0


_KEY_CHANGES = (
    "actor.key_added",
    "actor.key_revoked",
    "actor.key_recovered",
    "actor.key_recovery_cancelled",
)


def _recovered_use(index: int, leaf: Leaf, recovery: tuple[int, str]) -> RecoveredSignature:
    """An entry under a recovered key: flagged, or tampering if it was signed before the delay."""
    first = recovery[1]
    if leaf.integrated_at < first or format_time(parse_time(leaf.entry.claimed_at)) < first:
        raise TamperError(
            f"entry {index}: signed with key {leaf.signed.key_id}, recovered at entry "
            f"{recovery[0]}, before it was usable ({first})",
            index=index,
        )
    return RecoveredSignature(index, leaf.entry.actor, leaf.signed.key_id, recovery[0])


def _check_cancel_in_time(
    index: int, leaf: Leaf, body: Mapping[str, Any], recovered: dict[str, tuple[int, str]]
) -> None:
    recovery = recovered.get(str(body.get("key_id")))
    if recovery is None or leaf.integrated_at >= recovery[1]:
        raise TamperError(
            f"entry {index}: cancels no recovery still waiting for its delay", index=index
        )


def _check_key_change(
    index: int, entry_type: str, body: Mapping[str, Any], signer: str, role: str | None
) -> None:
    """Key authority: the rules admission enforces, re-checked from the log alone."""
    actor_id = str(body.get("actor_id"))
    try:
        if entry_type == "actor.key_recovered":
            check_recovery_target(actor_id, signer)
        elif entry_type == "actor.key_recovery_cancelled":
            check_cancel(actor_id, signer)
        else:
            check_key_authority(actor_id, signer, added=entry_type == "actor.key_added", role=role)
    except PermissionDenied as exc:
        raise TamperError(f"entry {index}: {exc}", index=index) from None
