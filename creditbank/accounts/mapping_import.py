"""Which rows of a qualification map a provider still has to register.

A provider's import is idempotent: a mapping version already on the log with the same terms is
skipped, one on the log with other terms is refused (a version's terms never change; register a
new version instead). The comparison is on RFC 8785 bytes, so formatting never matters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlmodel import Session

from creditbank.accounts.tables import ActorRow, MappingRow
from creditbank.errors import ConflictError, InputError, NotFoundError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.mapping import Catalog, Mapping

__all__ = ["PendingImport", "mapping_nonce", "pending_mappings"]


@dataclass(frozen=True)
class PendingImport:
    provider: str
    mine: tuple[Mapping, ...]
    todo: tuple[Mapping, ...]


def mapping_nonce(mapping: Mapping) -> str:
    """Deterministic: re-importing the same version can never append twice."""
    digest = hashlib.sha256(f"{mapping.mapping_id}\n{mapping.version}".encode()).hexdigest()
    return "map-" + digest[:32]


def pending_mappings(
    session: Session, catalog: Catalog, provider: str, source: str
) -> PendingImport:
    """The provider's rows of ``catalog`` and those of them not yet on the log.

    ``source`` names the map file in the error raised when it has no row of this provider.
    """
    actor = session.get(ActorRow, provider)
    if actor is None or actor.role != "provider":
        raise NotFoundError(f"{provider!r} is not a registered training provider")
    names = {actor.actor_id, actor.name}
    mine = tuple(m for m in catalog.mappings if m.provider in names)
    if not mine:
        raise InputError(
            f"{source} has no mappings whose provider is {actor.actor_id} or {actor.name}"
        )
    todo = []
    for mapping in mine:
        row = session.get(MappingRow, (mapping.mapping_id, mapping.version))
        if row is None:
            todo.append(mapping)
        elif canonical_bytes(json.loads(row.mapping_json)) != canonical_bytes(mapping.to_json()):
            raise ConflictError(
                f"mapping {mapping.mapping_id} version {mapping.version} is already "
                "registered with other terms; register a new version instead"
            )
    return PendingImport(actor.actor_id, mine, tuple(todo))
