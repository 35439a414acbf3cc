"""``mapping.retired``: every version of a mapping stops counting.

Either side may retire it: the provider that owns it, or a registrar of the institution whose
programme it maps into (which approved it, or declines to).
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field
from sqlmodel import Session, col, select

from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import Body, Identifier, check_reason
from creditbank.accounts.kinds.institutions import programme_institution, require_own_institution
from creditbank.accounts.tables import MappingRow
from creditbank.errors import ConflictError, NotFoundError, PermissionDenied
from creditbank.ledger.entry import Leaf
from creditbank.mapping import Mapping

__all__ = ["KIND", "MappingRetired"]


class MappingRetired(Body):
    mapping_id: Identifier
    #: A reason code (entries appended before codes existed may hold older text).
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def admit(snapshot: Snapshot, body: MappingRetired, admission: Admission) -> None:
    versions = snapshot.where(MappingRow, mapping_id=body.mapping_id)
    if not versions:
        raise NotFoundError(f"mapping {body.mapping_id!r} is not registered")
    owner = versions[0].provider
    if admission.actor.role == "registrar":
        programme = Mapping.from_json(json.loads(versions[0].mapping_json)).programme_code
        require_own_institution(
            admission,
            programme_institution(snapshot, programme),
            f"retirements of mappings into {programme}",
        )
    elif owner != admission.actor.actor_id:
        raise PermissionDenied(
            f"mapping {body.mapping_id} belongs to {owner}, not {admission.actor.actor_id}"
        )
    if all(v.retired_at is not None for v in versions):
        raise ConflictError(f"mapping {body.mapping_id} is already retired")
    check_reason(body.reason)


def project(session: Session, index: int, leaf: Leaf, body: MappingRetired) -> None:
    rows = session.exec(
        select(MappingRow)
        .where(MappingRow.mapping_id == body.mapping_id)
        .where(col(MappingRow.retired_at).is_(None))
    )
    for row in rows:
        row.retired_index, row.retired_at = index, leaf.integrated_at
        session.add(row)


KIND = Kind(
    entry_type="mapping.retired",
    body=MappingRetired,
    signers=("provider", "registrar"),
    poster="provider",
    route="/v1/mappings/{mapping_id}/retire",
    admit=admit,
    project=project,
    # a registrar of the programme's institution retires with its own token too
    self_service=True,
)
