"""Read models: tables derived from the log, plus the two tables that are deliberately not.

Every ``*Row`` here except :class:`LearnerIdentityRow` and :class:`TokenRow` is a projection: it is
written only by :mod:`creditbank.accounts.projection` while a log entry is appended (same
transaction), and ``creditbank rebuild`` recreates it exactly from the log. Each row records the
log index that created it, so every number a learner sees has provenance.

``LearnerIdentityRow`` holds personal data (name, ID number) and the salt of the learner's
commitment; erasing a learner deletes that row and the log no longer links to the person.
``TokenRow`` holds API tokens, hashed.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

__all__ = [
    "PROJECTION_TABLES",
    "ActorKeyRow",
    "ActorRow",
    "CertificateRow",
    "ConversionRow",
    "CreditRow",
    "LearnerIdentityRow",
    "LearnerRow",
    "MappingRow",
    "ProgrammeRow",
    "ProjectionStateRow",
    "RecognitionRow",
    "RecognitionSourceRow",
    "TokenRow",
]


def _index(nullable: bool = False) -> int:
    return Field(sa_column=Column(BigInteger, nullable=nullable))  # type: ignore[no-any-return]


class ActorRow(SQLModel, table=True):
    __tablename__ = "actors"

    actor_id: str = Field(primary_key=True, max_length=128)
    role: str = Field(max_length=16)
    name: str = Field(max_length=200)
    registered_index: int = _index()
    registered_at: str = Field(max_length=32)
    #: A registrar's institution (the code of a registered ``institution`` actor); ``None`` for
    #: every other role, and for registrars registered before institutions existed.
    institution: str | None = Field(default=None, max_length=16)


class ActorKeyRow(SQLModel, table=True):
    __tablename__ = "actor_keys"

    key_id: str = Field(primary_key=True, max_length=16)
    actor_id: str = Field(index=True, max_length=128)
    public_key: str = Field(max_length=44, unique=True)
    added_index: int = _index()
    added_at: str = Field(max_length=32)
    revoked_index: int | None = _index(nullable=True)
    revoked_at: str | None = Field(default=None, max_length=32)
    #: Key recovery (issue 11): the ``actor.key_recovered`` entry that added this key, and the
    #: log time from which it may sign (``None`` for keys the actor added itself).
    recovered_index: int | None = _index(nullable=True)
    usable_from: str | None = Field(default=None, max_length=32)


class LearnerRow(SQLModel, table=True):
    __tablename__ = "learners"

    learner_id: str = Field(primary_key=True, max_length=128)
    commitment: str = Field(max_length=64)
    registered_by: str = Field(max_length=128)
    registered_index: int = _index()
    registered_at: str = Field(max_length=32)


class LearnerIdentityRow(SQLModel, table=True):
    """Personal data, off the log. Deleting this row is erasure."""

    __tablename__ = "learner_identities"

    learner_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)
    id_number: str = Field(max_length=64)
    salt: str = Field(max_length=64)


class CertificateRow(SQLModel, table=True):
    __tablename__ = "certificates"

    certificate_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(index=True, max_length=128)
    provider: str = Field(max_length=128)
    qualification_code: str = Field(max_length=64)
    level: int
    issued_on: str = Field(max_length=10)
    issued_index: int = _index()
    recorded_at: str = Field(max_length=32)
    revoked_index: int | None = _index(nullable=True)
    revoked_at: str | None = Field(default=None, max_length=32)
    revoke_reason: str | None = Field(default=None, max_length=500)


class CreditRow(SQLModel, table=True):
    __tablename__ = "credits"

    credit_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(index=True, max_length=128)
    registrar: str = Field(max_length=128)
    institution: str = Field(max_length=128)
    course_code: str = Field(max_length=64)
    credits: str = Field(max_length=16)
    grade: int | None = None
    earned_on: str = Field(max_length=10)
    earned_index: int = _index()
    recorded_at: str = Field(max_length=32)


class MappingRow(SQLModel, table=True):
    __tablename__ = "mappings"

    mapping_id: str = Field(primary_key=True, max_length=128)
    version: int = Field(primary_key=True)
    provider: str = Field(index=True, max_length=128)
    mode: str = Field(max_length=32)
    #: ``Mapping.to_json()`` as canonical JSON text, exactly as it was signed.
    mapping_json: str = Field(sa_column=Column(Text, nullable=False))
    registered_index: int = _index()
    registered_at: str = Field(max_length=32)
    retired_index: int | None = _index(nullable=True)
    retired_at: str | None = Field(default=None, max_length=32)
    #: ``mapping.approved`` by a registrar of the target programme's institution: only approved
    #: versions count (a registered but unapproved version is *proposed*).
    approved_index: int | None = _index(nullable=True)
    approved_at: str | None = Field(default=None, max_length=32)
    approved_by: str | None = Field(default=None, max_length=128)


class ProgrammeRow(SQLModel, table=True):
    """One version of a programme, from its ``programme.registered`` entry (issue 12).

    Versions of a programme number 1, 2, ...; the version in force on a day is the highest whose
    ``effective_from`` is on or before it (see :mod:`creditbank.accounts.programme_versions`)."""

    __tablename__ = "programme_versions"

    code: str = Field(primary_key=True, max_length=64)
    version: int = Field(primary_key=True)
    institution: str = Field(index=True, max_length=16)
    #: ISO date the version takes effect (a local calendar day).
    effective_from: str = Field(max_length=10)
    #: ``programme_to_json`` as canonical JSON text, exactly as it was signed.
    programme_json: str = Field(sa_column=Column(Text, nullable=False))
    registered_index: int = _index()
    registered_at: str = Field(max_length=32)
    registered_by: str = Field(max_length=128)


class ConversionRow(SQLModel, table=True):
    __tablename__ = "conversions"

    conversion_id: str = Field(primary_key=True, max_length=128)
    learner_id: str = Field(index=True, max_length=128)
    programme_code: str = Field(max_length=64)
    registrar: str = Field(max_length=128)
    as_of: str = Field(max_length=10)
    credits: str = Field(max_length=16)
    posted_index: int = _index()
    posted_at: str = Field(max_length=32)
    reversed_index: int | None = _index(nullable=True)
    reversed_at: str | None = Field(default=None, max_length=32)
    reverse_reason: str | None = Field(default=None, max_length=500)


class RecognitionRow(SQLModel, table=True):
    """One course recognised by one conversion (denormalised for balance reads)."""

    __tablename__ = "recognitions"

    conversion_id: str = Field(primary_key=True, max_length=128)
    course_code: str = Field(primary_key=True, max_length=64)
    learner_id: str = Field(index=True, max_length=128)
    programme_code: str = Field(max_length=64)
    credits: str = Field(max_length=16)
    mapping_id: str = Field(max_length=128)
    mode: str = Field(max_length=32)
    #: Holding ids (certificate, credit or ``conversion/course``) joined by spaces.
    sources: str = Field(max_length=1100)
    posted_index: int = _index()
    posted_at: str = Field(max_length=32)
    reversed_index: int | None = _index(nullable=True)
    reversed_at: str | None = Field(default=None, max_length=32)


class RecognitionSourceRow(SQLModel, table=True):
    """Which holdings each recognition used: the index that makes revocation cascades cheap."""

    __tablename__ = "recognition_sources"

    source_id: str = Field(primary_key=True, max_length=160)
    conversion_id: str = Field(primary_key=True, max_length=128)
    course_code: str = Field(primary_key=True, max_length=64)


class ProjectionStateRow(SQLModel, table=True):
    """How far the read models have applied the log (one row)."""

    __tablename__ = "projection_state"

    id: int = Field(default=1, primary_key=True)
    applied_size: int = _index()


class TokenRow(SQLModel, table=True):
    """API bearer tokens, stored as SHA-256 hashes only (a stolen table grants nothing)."""

    __tablename__ = "api_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)
    actor_id: str | None = Field(default=None, index=True, max_length=128)
    learner_id: str | None = Field(default=None, index=True, max_length=128)
    label: str = Field(default="", max_length=200)
    created_at: str = Field(max_length=32)
    revoked_at: str | None = Field(default=None, max_length=32)


#: Tables that ``rebuild`` recreates from the log, in a stable order (for snapshots).
PROJECTION_TABLES: list[type[SQLModel]] = [
    ActorRow,
    ActorKeyRow,
    LearnerRow,
    CertificateRow,
    CreditRow,
    MappingRow,
    ProgrammeRow,
    ConversionRow,
    RecognitionRow,
    RecognitionSourceRow,
    ProjectionStateRow,
]
