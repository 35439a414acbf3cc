"""Request and response bodies of the HTTP API (``...In`` and ``...Public``).

These are kept apart from the ledger dataclasses and the database rows: a signed entry arrives as
:class:`SignedEntryIn` only so that OpenAPI can document it and obviously malformed requests are
refused early; it is then rebuilt with :meth:`creditbank.ledger.entry.SignedEntry.from_json`, which
alone decides what is a valid entry. Credits are decimal strings ("2.5"), never floats.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from creditbank.mapping.values import format_decimal

__all__ = [
    "DIGITS_ONLY",
    "ISO_DATE",
    "ConsistencyProofPublic",
    "CreditsText",
    "EntryIn",
    "IdentityIn",
    "InclusionProofPublic",
    "IsoDate",
    "LearnerRegistrationIn",
    "LogEntriesPage",
    "LogEntryPublic",
    "Page",
    "PrincipalPublic",
    "ReceiptPublic",
    "SignatureIn",
    "SignedEntryIn",
    "ActorTokenIn",
    "LearnerTokenIn",
    "TokenIn",
    "TokenIssued",
]

T = TypeVar("T")

#: A Decimal written to JSON as an exact string ("2.5"), never as a float.
CreditsText = Annotated[
    Decimal, PlainSerializer(format_decimal, return_type=str, when_used="always")
]

_DIGITS = re.compile(r"-?[0-9]+")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _digits_only(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return value
    raise ValueError("must be a whole number written in digits")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


#: Integers in paths and query strings are digits, as their schema says: pydantic alone would also
#: take "30.0". Put it *after* ``Path(...)``/``Query(...)`` so their bounds stay in the schema.
DIGITS_ONLY = BeforeValidator(_digits_only)
#: Dates are ``YYYY-MM-DD`` strings, as their schema says: pydantic alone would also take a number
#: ("0.0" is 1970-01-01). After ``Query(...)``, like :data:`DIGITS_ONLY`.
ISO_DATE = BeforeValidator(_iso_date)
#: A date in a JSON body.
IsoDate = Annotated[date, ISO_DATE]

_EXAMPLE_ENTRY: dict[str, Any] = {
    "type": "certificate.issued",
    "actor": "prov-weld-base",
    "claimed_at": "2026-03-01T08:00:00.000000Z",
    "nonce": "n-6f1d2c3b4a59",
    "body": {
        "v": 1,
        "certificate_id": "CERT-2026-0001",
        "learner_id": "L-3fa85f6457174562",
        "qualification_code": "6-18-02-04",
        "level": 3,
        "issued_on": "2026-02-20",
    },
}
_EXAMPLE_SIGNATURE: dict[str, Any] = {
    "alg": "Ed25519",
    "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    "sig": "5Vv1xQx3Xy4H2m2YwHq9R0yZ9rYpJ2c1mJ4wqv0m1uV7nW0q8hJ4cYpQ2m1t3k8dF0aR6sV9bX2cE5gH7jK1Ag==",
}


class SignatureIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    alg: Literal["Ed25519"]
    public_key: Annotated[str, Field(description="The signer's raw Ed25519 public key, base64.")]
    sig: Annotated[
        str,
        Field(description="Ed25519 over `creditbank-entry/v1\\n` || RFC 8785 bytes of `entry`."),
    ]


class EntryIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    type: str
    actor: str
    claimed_at: Annotated[str, Field(description="RFC 3339 UTC, e.g. 2026-03-01T08:00:00Z.")]
    nonce: Annotated[
        str, Field(description="8-128 of A-Z a-z 0-9 _ -; unique per actor, the idempotency key.")
    ]
    body: dict[str, Any]


class SignedEntryIn(BaseModel):
    """An entry and its actor's signature, exactly as the ledger stores them."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"entry": _EXAMPLE_ENTRY, "signature": _EXAMPLE_SIGNATURE}]
        },
    )

    entry: EntryIn
    signature: SignatureIn

    def signed_json(self) -> dict[str, Any]:
        return {"entry": self.entry.model_dump(), "signature": self.signature.model_dump()}


class IdentityIn(BaseModel):
    """Personal data of a learner, kept off the log in an erasable row."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    id_number: Annotated[str, Field(min_length=1, max_length=64)]
    salt: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="32 random bytes, hex.")]


class LearnerRegistrationIn(SignedEntryIn):
    """A signed ``learner.registered`` entry plus the identity its commitment is made from."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entry": {
                        "type": "learner.registered",
                        "actor": "reg-sou",
                        "claimed_at": "2026-03-01T08:00:00.000000Z",
                        "nonce": "n-0c9a4e1f2b3d",
                        "body": {
                            "v": 1,
                            "learner_id": "L-3fa85f6457174562",
                            "commitment": "9f" * 32,
                        },
                    },
                    "signature": _EXAMPLE_SIGNATURE,
                    "identity": {
                        "name": "王小明",
                        "id_number": "310101199001011234",
                        "salt": "5e" * 32,
                    },
                }
            ]
        },
    )

    identity: IdentityIn

    def signed_json(self) -> dict[str, Any]:
        return {"entry": self.entry.model_dump(), "signature": self.signature.model_dump()}


class ReceiptPublic(BaseModel):
    """Where an accepted entry landed, and the signed checkpoint that covers it."""

    index: int
    entry_type: str
    leaf_hash: Annotated[str, Field(description="base64 SHA-256(0x00 || leaf bytes)")]
    tree_size: int
    checkpoint: Annotated[str, Field(description="C2SP signed-note checkpoint covering the entry")]
    consequences: Annotated[
        list[int], Field(description="Entries the bank appended as a result (reversal cascades)")
    ]
    replayed: Annotated[
        bool, Field(description="True when this answers a retry of an entry already in the log")
    ] = False


class LogEntryPublic(BaseModel):
    index: int
    leaf: Annotated[
        dict[str, Any], Field(description="The leaf object; its RFC 8785 bytes are the leaf.")
    ]
    leaf_hash: Annotated[str, Field(description="base64 SHA-256(0x00 || RFC 8785(leaf))")]


class LogEntriesPage(BaseModel):
    start: int
    tree_size: int
    entries: list[LogEntryPublic]
    next: Annotated[int | None, Field(description="`start` of the next page, or null")]


class InclusionProofPublic(BaseModel):
    index: int
    tree_size: int
    hashes: Annotated[list[str], Field(description="RFC 9162 inclusion path, base64, leaf first")]


class ConsistencyProofPublic(BaseModel):
    first: int
    second: int
    hashes: Annotated[list[str], Field(description="RFC 9162 consistency proof, base64")]


class ActorTokenIn(BaseModel):
    """A new token for an actor (admins only)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"actor_id": "prov-weld-base", "label": "laptop"}]},
    )

    actor_id: Annotated[str, Field(min_length=1, max_length=128)]
    learner_id: None = None
    label: Annotated[str, Field(max_length=200)] = ""


class LearnerTokenIn(BaseModel):
    """A new token for a learner (admins and registrars)."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        json_schema_extra={"examples": [{"learner_id": "L-3fa85f6457174562", "label": "app"}]},
    )

    learner_id: Annotated[str, Field(min_length=1, max_length=128)]
    actor_id: None = None
    label: Annotated[str, Field(max_length=200)] = ""


#: Bind a new token to exactly one actor or one learner (the schema says so: one of two shapes).
TokenIn = ActorTokenIn | LearnerTokenIn


class PrincipalPublic(BaseModel):
    """The caller a token stands for."""

    role: str
    actor_id: str | None
    learner_id: str | None


class TokenIssued(BaseModel):
    """A new bearer token. The plaintext is shown here once; only its hash is stored."""

    token: str
    token_id: Annotated[str, Field(description="SHA-256 of the token, hex: use it to revoke")]
    role: str
    actor_id: str | None
    learner_id: str | None


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset``, of ``total``."""

    items: list[T]
    total: int
    offset: int
    limit: int
