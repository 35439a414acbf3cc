"""``mapping.registered``: a provider registers a certificate-to-credit mapping (or a new version).

The body is the mapping's JSON form; the mapping layer parses it, and the catalogue with it must
stay consistent (programme, courses, credits).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator
from sqlmodel import Session

from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import Body, day_of, parse_credits
from creditbank.accounts.tables import MappingRow
from creditbank.errors import ConflictError, PermissionDenied
from creditbank.ledger.entry import Leaf
from creditbank.mapping import Mapping

__all__ = ["KIND", "MappingRegistered"]


#: Ranges of a mapping's numbers, checked before the mapping layer reads it (a 422 naming the
#: field): a version, a validity period and a skill level are JSON integers.
MAX_VALID_YEARS = 100
MAX_VERSION = 100_000


def _whole(value: Any, field: str, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"mapping.{field} must be a JSON integer from {low} to {high}")


def _check_ranges(mapping: dict[str, Any]) -> dict[str, Any]:
    _whole(mapping.get("version"), "version", 1, MAX_VERSION)
    if mapping.get("valid_years") is not None:
        _whole(mapping.get("valid_years"), "valid_years", 1, MAX_VALID_YEARS)
    for name in ("effective_from", "effective_to"):
        if mapping.get(name) is not None:
            try:
                day_of(mapping.get(name))
            except ValueError as exc:
                raise ValueError(f"mapping.{name}: {exc}") from None
    for i, source in enumerate(mapping.get("sources") or []):
        if isinstance(source, dict) and "min_level" in source:
            _whole(source["min_level"], f"sources[{i}].min_level", 1, 5)
    for i, target in enumerate(mapping.get("targets") or []):
        if isinstance(target, dict):
            try:
                parse_credits(target.get("credits"))
            except ValueError as exc:
                raise ValueError(f"mapping.targets[{i}].credits: {exc}") from None
    return mapping


class MappingRegistered(Body):
    #: A mapping as ``creditbank.mapping.Mapping.to_json()`` writes it; its numbers are range
    #: checked here, the rest by the mapping layer.
    mapping: Annotated[dict[str, Any], AfterValidator(_check_ranges)]


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
