"""Which institution a signer acts for: the rule every institution-bound kind shares.

An institution is an actor of role ``institution`` whose id is its code (``SOU``), the code the
programmes and the qualification map use. A registrar belongs to exactly one institution, named
when the registrar is registered; it may post conversions, reversals and credits, and approve or
retire mappings, only for programmes (or, for credits, courses) of that institution. A registrar
registered before institutions existed has none and may post none of these (``docs/institutions.md``
says why and what to do). The log's own ``system`` actor re-posts what a revocation left standing
and is bound to no institution.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from creditbank.accounts.kinds.base import Admission, Snapshot
from creditbank.accounts.tables import ActorRow
from creditbank.errors import PermissionDenied

__all__ = [
    "INSTITUTION_ROLE",
    "InstitutionCode",
    "is_institution_code",
    "programme_institution",
    "require_institution_actor",
    "require_own_institution",
]

INSTITUTION_ROLE = "institution"

_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")

#: An institution code as the programmes and the map write it: ``SOU``, ``SSPU``.
InstitutionCode = Annotated[str, Field(pattern=_CODE.pattern)]


def is_institution_code(value: str) -> bool:
    return _CODE.fullmatch(value) is not None


def require_institution_actor(snapshot: Snapshot, code: str) -> ActorRow:
    """The registered institution ``code``, or :class:`PermissionDenied`."""
    actor = snapshot.get(ActorRow, code)
    if actor is None or actor.role != INSTITUTION_ROLE:
        raise PermissionDenied(
            f"{code!r} is not a registered institution; an admin registers it first "
            "(actor.registered with role institution)"
        )
    return actor


def programme_institution(snapshot: Snapshot, programme_code: str) -> str:
    """The institution of a programme in the catalogue (``NotFoundError`` if unknown)."""
    return snapshot.catalog.programme(programme_code).institution


def require_own_institution(admission: Admission, institution: str, what: str) -> None:
    """Refuse unless the signer is the system actor or a registrar of ``institution``.

    ``what`` says what is being done, for the message (``conversions into SOU-AUTO``)."""
    actor = admission.actor
    if actor.role == "system":
        return
    if actor.role == "registrar" and actor.institution is None:
        raise PermissionDenied(
            f"registrar {actor.actor_id} belongs to no institution, so it may not post {what}; "
            "register a registrar that names its institution"
        )
    if actor.institution != institution:
        raise PermissionDenied(
            f"{actor.actor_id} is a registrar of {actor.institution}; {what} belong to "
            f"institution {institution}"
        )
