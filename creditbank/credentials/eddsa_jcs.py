"""The ``eddsa-jcs-2022`` cryptosuite of W3C Data Integrity EdDSA (vc-di-eddsa, section 3.3).

Signing: the proof configuration (the proof without ``proofValue``, carrying the document's
``@context``) and the document (without ``proof``) are each canonicalised with RFC 8785 and hashed
with SHA-256; Ed25519 signs ``SHA-256(proof config) || SHA-256(document)`` and the signature is
written as multibase base58btc. Every intermediate value is exposed (:func:`proof_hash_data`) so
the W3C test vectors can be checked step by step.

Canonical bytes come from :func:`creditbank.ledger.canonical.canonical_bytes`, the project's one
RFC 8785 producer; it refuses floats, which our credentials never carry.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from creditbank.credentials.did import resolve_verification_method
from creditbank.credentials.multibase import multibase_b58_decode, multibase_b58_encode
from creditbank.errors import CredentialProofError, CreditbankError, EncodingError
from creditbank.ledger.canonical import canonical_bytes

__all__ = [
    "CRYPTOSUITE",
    "HashData",
    "VerifiedProof",
    "add_proof",
    "format_datetime",
    "proof_hash_data",
    "verify_proof",
]

CRYPTOSUITE = "eddsa-jcs-2022"
_DATETIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

Resolver = Callable[[object], Ed25519PublicKey]


def format_datetime(moment: datetime) -> str:
    """An XML Schema ``dateTimeStamp`` in UTC, to the second (``2026-01-01T00:00:00Z``)."""
    if moment.tzinfo is None:
        raise ValueError("a credential time must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class HashData:
    """The intermediate values of the cryptosuite, named as in the specification's vectors."""

    canonical_document: bytes
    canonical_proof_config: bytes

    @property
    def document_hash(self) -> bytes:
        return hashlib.sha256(self.canonical_document).digest()

    @property
    def proof_config_hash(self) -> bytes:
        return hashlib.sha256(self.canonical_proof_config).digest()

    @property
    def combined(self) -> bytes:
        """``SHA-256(proof config) || SHA-256(document)``: the bytes Ed25519 signs."""
        return self.proof_config_hash + self.document_hash


@dataclass(frozen=True)
class VerifiedProof:
    """What a verified proof tells: who signed (the key and its method), for what, when."""

    verification_method: str
    public_key: Ed25519PublicKey
    proof_purpose: str
    created: str | None


def _canonical(value: Any, what: str) -> bytes:
    try:
        return canonical_bytes(value)
    except EncodingError as exc:
        raise CredentialProofError(f"{what} cannot be canonicalised (RFC 8785): {exc}") from exc


def _proof_config(document: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Section 3.3.5: check type, cryptosuite and ``created``; take the document's ``@context``."""
    config = copy.deepcopy(dict(options))
    if config.get("type") != "DataIntegrityProof" or config.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialProofError(
            f"proof must be a DataIntegrityProof with cryptosuite {CRYPTOSUITE!r}"
        )
    created = config.get("created")
    if created is not None and not (isinstance(created, str) and _DATETIME.match(created)):
        raise CredentialProofError(f"proof created {created!r} is not an XML Schema dateTime")
    if "@context" in document:
        config["@context"] = copy.deepcopy(document["@context"])
    return config


def proof_hash_data(document: Mapping[str, Any], options: Mapping[str, Any]) -> HashData:
    """Transformation and proof configuration of section 3.3: both canonical forms."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    config = _proof_config(unsecured, options)
    return HashData(
        canonical_document=_canonical(unsecured, "the document"),
        canonical_proof_config=_canonical(config, "the proof configuration"),
    )


def add_proof(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    *,
    verification_method: str,
    created: datetime,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return ``document`` secured with an ``eddsa-jcs-2022`` ``DataIntegrityProof``."""
    if "proof" in document:
        raise CredentialProofError("the document already carries a proof")
    options: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": format_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    data = proof_hash_data(document, options)
    proof = _proof_config(document, options)
    proof["proofValue"] = multibase_b58_encode(private_key.sign(data.combined))
    return {**copy.deepcopy(dict(document)), "proof": proof}


def _check_context(document: Mapping[str, Any], proof: Mapping[str, Any]) -> None:
    """Section 3.3.2 step 4: the document's ``@context`` starts with the proof's, in order."""
    if "@context" not in proof:
        return
    wanted, have = proof["@context"], document.get("@context")
    wanted_list = wanted if isinstance(wanted, list) else [wanted]
    have_list = have if isinstance(have, list) else [have]
    if have_list[: len(wanted_list)] != wanted_list:
        raise CredentialProofError("the document's @context does not start with the proof's")


def verify_proof(
    document: Any,
    *,
    expected_purpose: str = "assertionMethod",
    resolve: Resolver = resolve_verification_method,
) -> VerifiedProof:
    """Verify the ``eddsa-jcs-2022`` proof of a secured document; raise if it does not check out.

    Raises :class:`~creditbank.errors.CredentialProofError` for a missing, malformed or invalid
    proof, :class:`~creditbank.errors.DidResolutionError` when the verification method does not
    resolve to an Ed25519 key.
    """
    if not isinstance(document, Mapping):
        raise CredentialProofError("a secured document is a JSON object")
    proof = document.get("proof")
    if not isinstance(proof, Mapping):
        raise CredentialProofError("the document carries no proof object (one proof expected)")
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if options.get("proofPurpose") != expected_purpose:
        raise CredentialProofError(
            f"proof purpose is {options.get('proofPurpose')!r}, expected {expected_purpose!r}"
        )
    try:
        signature = multibase_b58_decode(proof.get("proofValue"))
    except CreditbankError as exc:
        raise CredentialProofError("proofValue is not multibase base58btc") from exc
    if len(signature) != 64:
        raise CredentialProofError("proofValue must be a 64-byte Ed25519 signature")
    _check_context(document, options)
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    if "@context" in options:
        unsecured["@context"] = options["@context"]
    public_key = resolve(options.get("verificationMethod"))
    data = proof_hash_data(unsecured, options)
    try:
        public_key.verify(signature, data.combined)
    except InvalidSignature as exc:
        raise CredentialProofError(
            "the eddsa-jcs-2022 signature does not verify: the document or its proof was changed"
        ) from exc
    created = options.get("created")
    return VerifiedProof(
        verification_method=str(options["verificationMethod"]),
        public_key=public_key,
        proof_purpose=expected_purpose,
        created=created if isinstance(created, str) else None,
    )
