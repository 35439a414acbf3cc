"""The entry types of the credit bank: one typed, versioned body schema each, and who may sign it.

Bodies are pydantic models with ``extra="forbid"``: an unknown field is an error, not something to
carry silently into a permanent, signed record. Every body carries ``v`` (its schema version) so a
later version can be added beside this one without reinterpreting old entries. Credits are decimal
strings ("2.5"), dates ISO strings: there are no floats in the log.

Personal data never appears here: a learner is a random id plus a salted commitment.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from creditbank.errors import EntryFormatError

__all__ = [
    "ENTRY_TYPES",
    "ROLES",
    "SIGNING_ROLES",
    "ActorKeyAdded",
    "ActorKeyRevoked",
    "ActorRegistered",
    "Body",
    "CertificateIssued",
    "CertificateRevoked",
    "ConversionPosted",
    "ConversionReversed",
    "CreditEarned",
    "EntrySpec",
    "LearnerRegistered",
    "MappingRegistered",
    "MappingRetired",
    "RecognitionClaim",
    "parse_body",
]

#: Roles an actor can hold. ``system`` is the log itself (genesis, cascades); ``learner`` never
#: signs entries (learners read their own account with a token).
ROLES = ("system", "admin", "provider", "registrar")
SIGNING_ROLES = ROLES

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
_CREDITS = re.compile(r"^(0|[1-9]\d{0,3})(\.\d{1,2})?$")

Identifier = Annotated[str, Field(pattern=_ID)]
#: A holding used as a source: a certificate or credit id, or ``conversion_id/course_code`` for a
#: course another conversion recognised.
SourceId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}(/[A-Za-z0-9._-]{1,32})?$")
]


def _credits(value: str) -> str:
    if not _CREDITS.match(value):
        raise ValueError("credits must be a decimal string like '2' or '2.5' (at most 2 places)")
    if Decimal(value) <= 0:
        raise ValueError("credits must be positive")
    return value


Credits = Annotated[str, AfterValidator(_credits)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    v: Literal[1] = 1


class ActorRegistered(Body):
    actor_id: Identifier
    role: Literal["system", "admin", "provider", "registrar"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    public_key: Annotated[str, Field(min_length=44, max_length=44)]


class ActorKeyAdded(Body):
    actor_id: Identifier
    public_key: Annotated[str, Field(min_length=44, max_length=44)]


class ActorKeyRevoked(Body):
    actor_id: Identifier
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


class LearnerRegistered(Body):
    learner_id: Identifier
    #: hex SHA-256 of salt || canonical identity; the salt lives off the log, in an erasable row.
    commitment: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class CertificateIssued(Body):
    certificate_id: Identifier
    learner_id: Identifier
    qualification_code: Annotated[str, Field(min_length=1, max_length=64)]
    level: Annotated[int, Field(ge=1, le=5)]
    issued_on: date


class CertificateRevoked(Body):
    certificate_id: Identifier
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class CreditEarned(Body):
    credit_id: Identifier
    learner_id: Identifier
    #: Institution code as the qualification map writes it (e.g. SSPU, SOU).
    institution: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")]
    course_code: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
    credits: Credits
    #: Percentage grade (百分制).
    grade: Annotated[int, Field(ge=0, le=100)]
    earned_on: date


class MappingRegistered(Body):
    #: A mapping as ``creditbank.mapping.Mapping.to_json()`` writes it; checked by the mapping layer.
    mapping: dict[str, Any]


class MappingRetired(Body):
    mapping_id: Identifier
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class RecognitionClaim(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    course_code: Annotated[str, Field(min_length=1, max_length=64)]
    credits: Credits
    mapping_id: Identifier
    sources: Annotated[list[SourceId], Field(min_length=1, max_length=8)]


class ConversionPosted(Body):
    conversion_id: Identifier
    learner_id: Identifier
    programme_code: Annotated[str, Field(min_length=1, max_length=64)]
    as_of: date
    recognitions: Annotated[list[RecognitionClaim], Field(min_length=1, max_length=200)]


class ConversionReversed(Body):
    conversion_id: Identifier
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class LearnerIndexRoot(Body):
    """h5: the learner index root the log commits to (appended by the log itself, see
    ``ledger/chain.py``); ``tree_size`` is how many entries before it the root covers."""

    tree_size: Annotated[int, Field(ge=0)]
    root: Annotated[str, Field(min_length=44, max_length=44)]
    learners: Annotated[int, Field(ge=0)]


class EntrySpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    body: type[Body]
    roles: tuple[str, ...]


#: Every entry type the bank accepts, its body schema and the roles allowed to sign it.
ENTRY_TYPES: dict[str, EntrySpec] = {
    "actor.registered": EntrySpec(body=ActorRegistered, roles=("system", "admin")),
    "actor.key_added": EntrySpec(body=ActorKeyAdded, roles=("system", "admin")),
    "actor.key_revoked": EntrySpec(body=ActorKeyRevoked, roles=("system", "admin")),
    "learner.registered": EntrySpec(body=LearnerRegistered, roles=("registrar",)),
    "certificate.issued": EntrySpec(body=CertificateIssued, roles=("provider",)),
    "certificate.revoked": EntrySpec(body=CertificateRevoked, roles=("provider",)),
    "credit.earned": EntrySpec(body=CreditEarned, roles=("registrar",)),
    "mapping.registered": EntrySpec(body=MappingRegistered, roles=("provider",)),
    "mapping.retired": EntrySpec(body=MappingRetired, roles=("provider",)),
    "conversion.posted": EntrySpec(body=ConversionPosted, roles=("registrar",)),
    "conversion.reversed": EntrySpec(body=ConversionReversed, roles=("registrar", "system")),
    "ledger.learner_index": EntrySpec(body=LearnerIndexRoot, roles=("system",)),
}


def parse_body(entry_type: str, body: Any) -> Body:
    """The typed body of an entry, or :class:`EntryFormatError` saying exactly what is wrong."""
    spec = ENTRY_TYPES.get(entry_type)
    if spec is None:
        known = ", ".join(sorted(ENTRY_TYPES))
        raise EntryFormatError(f"unknown entry type {entry_type!r}; known types: {known}")
    try:
        return spec.body.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise EntryFormatError(f"{entry_type} body: {problems}") from None
