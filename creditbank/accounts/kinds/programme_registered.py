"""``programme.registered``: a registrar of an institution registers one of its programmes, or a
new version of one (issue 12).

The body is the programme as ``programmes.csv`` describes it (title, total credits, courses with
credits, caps), in :func:`~creditbank.mapping.programme_json.programme_to_json` form, plus its
``version`` and the day it takes ``effective_from``. Only the institution that awards a programme
decides its caps, so only its own registrar signs it. Versions count 1, 2, ... with no gap. A new
version takes effect after the day it is registered: conversions already posted (their ``as_of``
is never in the future) keep being judged, live and by ``creditbank verify``, under the version
they were posted under. The catalogue with the new version in force must stay consistent (courses
shared within the institution keep one title and credit value, approved mappings still fit).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from pydantic import Field, StrictInt
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import Body, Day
from creditbank.accounts.kinds.institutions import (
    is_institution_code,
    require_institution_actor,
    require_own_institution,
)
from creditbank.accounts.kinds.mapping_registered import MAX_VERSION
from creditbank.accounts.tables import ProgrammeRow
from creditbank.errors import ConflictError, EntryFormatError, RuleViolation
from creditbank.ledger.entry import Leaf
from creditbank.mapping import Catalog, Programme
from creditbank.mapping.programme_json import programme_from_json

__all__ = ["KIND", "ProgrammeRegistered"]


class ProgrammeRegistered(Body):
    #: The programme as ``programme_to_json`` writes it; checked by the mapping layer on admission.
    programme: dict[str, Any]
    version: Annotated[StrictInt, Field(ge=1, le=MAX_VERSION)]
    #: The local day this version takes effect.
    effective_from: Day


def _programme(body: ProgrammeRegistered) -> Programme:
    programme = programme_from_json(body.programme)
    if not is_institution_code(programme.institution):
        raise EntryFormatError(f"programme.institution {programme.institution!r} is not a code")
    return programme


def _check_version(
    snapshot: Snapshot, body: ProgrammeRegistered, programme: Programme, today: date
) -> None:
    versions = snapshot.where(ProgrammeRow, code=programme.code)
    latest = max(versions, key=lambda r: r.version) if versions else None
    expected = 1 if latest is None else latest.version + 1
    if body.version != expected:
        raise ConflictError(
            f"programme {programme.code} has {expected - 1} version(s); the next is {expected}, "
            f"not {body.version}"
        )
    if latest is None:
        return
    if latest.institution != programme.institution:
        raise ConflictError(
            f"programme {programme.code} belongs to {latest.institution}; a version cannot move it"
        )
    earliest = max(today, date.fromisoformat(latest.effective_from))
    if body.effective_from <= earliest:
        raise RuleViolation(
            f"version {body.version} of {programme.code} must take effect after {earliest} "
            "(after today and after the version before it), so posted conversions keep "
            "the caps they were posted under",
            code="effective-date-too-early",
        )


def admit(snapshot: Snapshot, body: ProgrammeRegistered, admission: Admission) -> None:
    programme = _programme(body)
    require_institution_actor(snapshot, programme.institution)
    require_own_institution(
        admission, programme.institution, f"programmes of {programme.institution}"
    )
    _check_version(snapshot, body, programme, admission.today)
    # The catalogue with this version in force must still be consistent: from the day it takes
    # effect, and on each later day another programme's registered version takes effect.
    start = body.effective_from.isoformat()
    later = {r.effective_from for r in snapshot.where(ProgrammeRow) if r.effective_from > start}
    for day in [start, *sorted(later)]:
        current = snapshot.catalog_on(date.fromisoformat(day))
        others = [p for p in current.programmes if p.code != programme.code]
        Catalog(programmes=[*others, programme], mappings=current.mappings)


def project(session: Session, index: int, leaf: Leaf, body: ProgrammeRegistered) -> None:
    programme = programme_from_json(body.programme)
    session.add(
        ProgrammeRow(
            code=programme.code,
            version=body.version,
            institution=programme.institution,
            effective_from=body.effective_from.isoformat(),
            programme_json=json.dumps(body.programme, sort_keys=True, ensure_ascii=False),
            registered_index=index,
            registered_at=leaf.integrated_at,
            registered_by=leaf.entry.actor,
        )
    )


KIND = Kind(
    entry_type="programme.registered",
    body=ProgrammeRegistered,
    signers=("registrar",),
    poster="registrar",
    route="/v1/programmes",
    admit=admit,
    project=project,
)
