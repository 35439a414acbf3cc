"""RFC 9457 problem details: the one table from error class to HTTP status and problem ``type``.

Domain code raises the classes of :mod:`creditbank.errors`; nothing in the domain knows HTTP. This
module is where the two meet. :data:`PROBLEM_TYPES` is searched in order (most specific class
first), so a :class:`~creditbank.errors.DuplicateNonceError` answers ``409 .../duplicate-nonce``
while any other :class:`~creditbank.errors.ConflictError` answers ``409 .../conflict``. A
:class:`~creditbank.errors.RuleViolation` refines its type with its stable ``code``
(``.../rule/<code>``).

The handlers that turn exceptions into these answers, and the log line each answer writes, are
in :mod:`creditbank.api.problem_handlers`.

Failures that happen before a route runs (malformed JSON, a wrong field type, an oversize body, an
unknown path) are problems too, with their own types in :data:`HTTP_PROBLEMS`. Bad input answers
4xx and never 500; only a fault of the server itself (a tampered or unreachable database, a bug)
answers 5xx, and then without internal details.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from creditbank import errors

__all__ = [
    "HTTP_PROBLEMS",
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_TYPES",
    "Problem",
    "ProblemType",
    "problem_answer",
    "problem_for",
    "problem_response",
    "problem_responses",
]

PROBLEM_BASE = "https://creditbank.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """A stable problem ``type``: its HTTP status, URI slug and short human title."""

    status: int
    slug: str
    title: str

    @property
    def uri(self) -> str:
        return PROBLEM_BASE + self.slug


#: Domain error class -> problem type. Searched in order: keep subclasses above their parents.
PROBLEM_TYPES: list[tuple[type[errors.CreditbankError], ProblemType]] = [
    (errors.DuplicateNonceError, ProblemType(409, "duplicate-nonce", "Nonce already used")),
    (errors.RuleViolation, ProblemType(409, "rule-violation", "A ledger rule refuses the entry")),
    (errors.ConflictError, ProblemType(409, "conflict", "Conflicts with the current state")),
    (errors.NotFoundError, ProblemType(404, "not-found", "Not found")),
    (errors.AuthenticationError, ProblemType(401, "unauthenticated", "Authentication required")),
    (errors.PermissionDenied, ProblemType(403, "forbidden", "Not allowed")),
    (errors.AuthError, ProblemType(403, "forbidden", "Not allowed")),
    (errors.SignatureError, ProblemType(422, "bad-signature", "Signature rejected")),
    (errors.ProofError, ProblemType(422, "bad-proof", "Proof rejected")),
    (errors.CheckpointError, ProblemType(422, "bad-checkpoint", "Checkpoint rejected")),
    (errors.TamperError, ProblemType(500, "log-inconsistent", "The stored log is inconsistent")),
    (errors.VerificationError, ProblemType(422, "verification-failed", "Verification failed")),
    (errors.EncodingError, ProblemType(422, "not-canonical", "Not representable as RFC 8785 JSON")),
    (errors.EntryFormatError, ProblemType(422, "invalid-entry", "Malformed entry")),
    (errors.MappingFormatError, ProblemType(422, "invalid-mapping", "Malformed mapping")),
    (errors.CatalogError, ProblemType(422, "catalogue-conflict", "Contradicts the catalogue")),
    (errors.HoldingsError, ProblemType(422, "invalid-holdings", "Malformed holdings")),
    (errors.KeyFormatError, ProblemType(422, "invalid-key", "Malformed key")),
    (errors.MapLoadError, ProblemType(422, "invalid-map", "Qualification map rejected")),
    (errors.InputError, ProblemType(422, "invalid-input", "Invalid input")),
    (errors.StorageError, ProblemType(503, "storage-unavailable", "Storage unavailable")),
    (errors.CreditbankError, ProblemType(500, "internal", "Internal error")),
]

#: Problems raised by HTTP handling itself, before or around a route.
HTTP_PROBLEMS: dict[str, ProblemType] = {
    "malformed-json": ProblemType(400, "malformed-json", "Malformed JSON"),
    "validation": ProblemType(422, "validation", "Request does not match the schema"),
    "unsupported-media-type": ProblemType(
        415, "unsupported-media-type", "Request body must be application/json"
    ),
    "payload-too-large": ProblemType(413, "payload-too-large", "Request body too large"),
    "not-found": ProblemType(404, "not-found", "Not found"),
    "method-not-allowed": ProblemType(405, "method-not-allowed", "Method not allowed"),
    "internal": ProblemType(500, "internal", "Internal error"),
}


class ValidationIssue(BaseModel):
    """One field that did not match the request schema."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem details object (``application/problem+json``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": PROBLEM_BASE + "duplicate-nonce",
                    "title": "Nonce already used",
                    "status": 409,
                    "detail": "actor prov-sspu already used nonce n-20260101-0001",
                }
            ]
        }
    )

    type: str = Field(description="A stable URI naming the kind of problem.")
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str | None = Field(default=None, description="A rule violation's stable reason code.")
    item: int | None = Field(
        default=None, description="In a batch, the 0-based index of the item that was refused."
    )
    correlation_id: str | None = Field(
        default=None, description="Names the server's log line about this answer; quote it."
    )
    errors: list[ValidationIssue] | None = Field(
        default=None, description="Each field that did not match the request schema."
    )


def problem_for(exc: errors.CreditbankError) -> tuple[ProblemType, dict[str, Any]]:
    """The problem type for a domain error, and any extension members it carries."""
    item = {} if exc.item is None else {"item": exc.item}  # a refused batch item names itself
    for cls, problem in PROBLEM_TYPES:
        if isinstance(exc, cls):
            if isinstance(exc, errors.RuleViolation):
                refined = ProblemType(problem.status, f"rule/{exc.code}", problem.title)
                return refined, {"code": exc.code, **item}
            return problem, item
    raise AssertionError("PROBLEM_TYPES ends with CreditbankError")  # pragma: no cover


def problem_response(
    problem: ProblemType,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem.uri,
        "title": problem.title,
        "status": problem.status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(
        body, status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json answers for ``statuses``."""
    return {status: {"model": Problem, **problem_answer(status)} for status in statuses}


_STATUS_TEXT = {
    400: "Malformed request",
    401: "No or unknown bearer token",
    403: "The token's role or actor may not do this",
    404: "Not found (or not visible to this caller)",
    409: "Conflicts with the ledger's state (duplicate nonce, a rule, an existing id)",
    413: "Request body too large",
    415: "Request body is not JSON",
    422: "Well-formed JSON that is not a valid request or entry",
    503: "Storage unavailable",
}


def problem_answer(status: int) -> dict[str, Any]:
    """The OpenAPI answer of a problem+json response with ``status``."""
    return {
        "description": _STATUS_TEXT.get(status, "Problem"),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
