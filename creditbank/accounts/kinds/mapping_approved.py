"""``mapping.approved``: a registrar of the target programme's institution approves one version of
a provider's mapping.

A provider's ``mapping.registered`` is only *proposed*: a training provider can say what its
certificates should be worth, but only the institution that awards the programme decides that they
are. Until a registrar of that institution approves the version, it is in no plan, no conversion
and no re-check. Approval re-checks the catalogue with the version added, since approved versions
may have changed since it was proposed.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from pydantic import Field, StrictInt
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, RowKey, Snapshot
from creditbank.accounts.kinds.fields import Body, Identifier
from creditbank.accounts.kinds.institutions import programme_institution, require_own_institution
from creditbank.accounts.kinds.mapping_registered import MAX_VERSION
from creditbank.accounts.tables import MappingRow, ProgrammeRow
from creditbank.errors import ConflictError, NotFoundError
from creditbank.ledger.entry import Leaf
from creditbank.mapping import Mapping

__all__ = ["KIND", "MappingApproved"]


class MappingApproved(Body):
    mapping_id: Identifier
    #: The version approved (each version is approved on its own: its terms are new).
    version: Annotated[StrictInt, Field(ge=1, le=MAX_VERSION)]


def admit(snapshot: Snapshot, body: MappingApproved, admission: Admission) -> None:
    row = snapshot.get(MappingRow, (body.mapping_id, body.version))
    if row is None:
        raise NotFoundError(f"mapping {body.mapping_id} version {body.version} is not registered")
    mapping = Mapping.from_json(json.loads(row.mapping_json))
    require_own_institution(
        admission,
        programme_institution(snapshot, mapping.programme_code),
        f"approvals of mappings into {mapping.programme_code}",
    )
    if row.retired_at is not None:
        raise ConflictError(f"mapping {body.mapping_id} is retired; it can no longer be approved")
    if row.approved_at is not None:
        raise ConflictError(f"mapping {body.mapping_id} version {body.version} is already approved")
    # The approved catalogue with this version must still be consistent (versions, caps, cycles),
    # today and on each day a registered programme version is still to take effect.
    snapshot.catalog.with_mapping(mapping)
    today = admission.today.isoformat()
    for day in sorted(
        {r.effective_from for r in snapshot.where(ProgrammeRow) if r.effective_from > today}
    ):
        snapshot.catalog_on(date.fromisoformat(day)).with_mapping(mapping)


def project(session: Session, index: int, leaf: Leaf, body: MappingApproved) -> None:
    row = session.get(MappingRow, (body.mapping_id, body.version))
    if row is None:
        return
    row.approved_index, row.approved_at = index, leaf.integrated_at
    row.approved_by = leaf.entry.actor
    session.add(row)


def rows(body: MappingApproved) -> list[RowKey]:
    return [(MappingRow, (body.mapping_id, body.version))]


KIND = Kind(
    entry_type="mapping.approved",
    body=MappingApproved,
    signers=("registrar",),
    poster="registrar",
    route="/v1/mappings/{mapping_id}/approve",
    admit=admit,
    project=project,
    rows=rows,
)
