"""Turn the API's RFC 9457 problems back into the error tree, so callers catch domain errors.

The server maps each error class to a problem ``type`` URI in ``creditbank.api.errors``; this is
the inverse, keyed by the type's slug. A test checks the two tables agree. An answer that is not a
problem document (a proxy's HTML page, say) is mapped by its status code alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from creditbank import errors

__all__ = ["PROBLEM_BASE", "PROBLEM_ERRORS", "error_from_response"]

PROBLEM_BASE = "https://creditbank.example/problems/"

_Factory = Callable[[str], errors.CreditbankError]

#: Problem type slug -> how to build the matching domain error from the problem's detail.
PROBLEM_ERRORS: dict[str, _Factory] = {
    "duplicate-nonce": errors.DuplicateNonceError,
    "rule-violation": errors.RuleViolation,
    "conflict": errors.ConflictError,
    "not-found": errors.NotFoundError,
    "unauthenticated": errors.AuthenticationError,
    "forbidden": errors.PermissionDenied,
    "bad-signature": errors.SignatureError,
    "bad-proof": errors.ProofError,
    "bad-checkpoint": errors.CheckpointError,
    "log-inconsistent": errors.TamperError,
    "verification-failed": errors.VerificationError,
    "not-canonical": errors.EncodingError,
    "invalid-entry": errors.EntryFormatError,
    "invalid-mapping": errors.MappingFormatError,
    "catalogue-conflict": lambda detail: errors.CatalogError([detail]),
    "invalid-holdings": errors.HoldingsError,
    "invalid-key": errors.KeyFormatError,
    "invalid-map": errors.InputError,
    "invalid-input": errors.InputError,
    "validation": errors.InputError,
    "malformed-json": errors.InputError,
    "unsupported-media-type": errors.InputError,
    "payload-too-large": errors.InputError,
    "method-not-allowed": errors.InputError,
    "storage-unavailable": errors.StorageError,
    "internal": errors.CreditbankError,
}

_BY_STATUS: list[tuple[int, _Factory]] = [
    (401, errors.AuthenticationError),
    (403, errors.PermissionDenied),
    (404, errors.NotFoundError),
    (409, errors.ConflictError),
]


def _by_status(status: int) -> _Factory:
    for code, factory in _BY_STATUS:
        if status == code:
            return factory
    if 400 <= status < 500:
        return errors.InputError
    return errors.StorageError


def error_from_response(response: httpx.Response) -> errors.CreditbankError:
    """The domain error an error response stands for, with the problem's type and detail."""
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        text = response.text.strip()[:200] or response.reason_phrase
        exc = _by_status(response.status_code)(f"HTTP {response.status_code}: {text}")
        return exc
    type_uri: str = body["type"]
    detail = str(body.get("detail") or body.get("title") or type_uri)
    slug = type_uri.removeprefix(PROBLEM_BASE)
    if slug.startswith("rule/"):
        exc = errors.RuleViolation(detail, code=slug.removeprefix("rule/"))
    else:
        exc = PROBLEM_ERRORS.get(slug, _by_status(response.status_code))(detail)
    exc.add_note(f"problem {type_uri} (HTTP {response.status_code})")
    item = body.get("item")
    if isinstance(item, int) and not isinstance(item, bool):
        exc.in_item(item)  # a refused batch item: the error names it, as the problem did
    return exc
