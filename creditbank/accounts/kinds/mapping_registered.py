"""``mapping.registered``: a provider registers a certificate-to-credit mapping (or a new version).

The body is the mapping's JSON form; the mapping layer parses it, and the catalogue with it must
stay consistent (programme, courses, credits).
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import Body
from creditbank.accounts.tables import MappingRow
from creditbank.errors import ConflictError, PermissionDenied
from creditbank.ledger.entry import Leaf
from creditbank.mapping import Mapping

__all__ = ["KIND", "MappingRegistered"]


class MappingRegistered(Body):
    #: A mapping as ``creditbank.mapping.Mapping.to_json()`` writes it; checked by the mapping layer.
    mapping: dict[str, Any]


def admit(snapshot: Snapshot, body: MappingRegistered, admission: Admission) -> None:
    mapping = Mapping.from_json(body.mapping)
    actor = admission.actor
    # A map names its provider by id or by registered name (the shipped CSV uses names).
    if mapping.provider not in (actor.actor_id, actor.name):
        raise PermissionDenied(
            f"mapping {mapping.mapping_id} names provider {mapping.provider}; "
            f"it must be registered by that provider, not {actor.actor_id}"
        )
    if snapshot.get(MappingRow, (mapping.mapping_id, mapping.version)) is not None:
        raise ConflictError(f"mapping {mapping.mapping_id} version {mapping.version} exists")
    others = snapshot.where(MappingRow, mapping_id=mapping.mapping_id)
    if others and others[0].provider != actor.actor_id:
        raise PermissionDenied(f"mapping {mapping.mapping_id} belongs to {others[0].provider}")
    # The catalogue with this mapping must still be consistent (programme, courses, credits).
    snapshot.catalog.with_mapping(mapping)


def project(session: Session, index: int, leaf: Leaf, body: MappingRegistered) -> None:
    mapping = Mapping.from_json(body.mapping)
    session.add(
        MappingRow(
            mapping_id=mapping.mapping_id,
            version=mapping.version,
            provider=leaf.entry.actor,
            mode=str(mapping.mode),
            mapping_json=json.dumps(body.mapping, sort_keys=True, ensure_ascii=False),
            registered_index=index,
            registered_at=leaf.integrated_at,
        )
    )


KIND = Kind(
    entry_type="mapping.registered",
    body=MappingRegistered,
    signers=("provider",),
    poster="provider",
    route="/v1/mappings",
    admit=admit,
    project=project,
)
