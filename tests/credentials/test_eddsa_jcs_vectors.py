"""The W3C eddsa-jcs-2022 test vectors, reproduced byte for byte at every intermediate step."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from creditbank.credentials.did import (
    did_key_verification_method,
    private_key_from_multibase,
    public_key_multibase,
    resolve_verification_method,
)
from creditbank.credentials.eddsa_jcs import add_proof, proof_hash_data, verify_proof
from creditbank.credentials.multibase import multibase_b58_decode, multibase_b58_encode
from creditbank.errors import CredentialProofError, DidResolutionError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "eddsa-jcs-2022"


def _text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8").strip()


def _json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def signed() -> dict[str, Any]:
    return _json("signedJCS.json")


def _unsecured(signed: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in signed.items() if k != "proof"}


def _options() -> dict[str, Any]:
    return {k: v for k, v in _json("proofConfigJCS.json").items() if k != "@context"}


def test_key_pair_is_the_verification_method() -> None:
    pair = _json("keyPair.json")
    private = private_key_from_multibase(pair["privateKeyMultibase"])
    assert public_key_multibase(private.public_key()) == pair["publicKeyMultibase"]
    method = _json("proofConfigJCS.json")["verificationMethod"]
    assert did_key_verification_method(private.public_key()) == method
    assert resolve_verification_method(method).public_bytes_raw() == (
        private.public_key().public_bytes_raw()
    )


def test_every_intermediate_value(signed: dict[str, Any]) -> None:
    data = proof_hash_data(_unsecured(signed), _options())
    assert data.canonical_document == _text("canonDocJCS.txt").encode()
    assert data.canonical_proof_config == _text("proofCanonJCS.txt").encode()
    assert data.document_hash.hex() == _text("docHashJCS.txt")
    assert data.proof_config_hash.hex() == _text("proofHashJCS.txt")
    assert data.combined.hex() == _text("combinedHashJCS.txt")


def test_signature_hex_and_base58(signed: dict[str, Any]) -> None:
    private = private_key_from_multibase(_json("keyPair.json")["privateKeyMultibase"])
    secured = add_proof(
        _unsecured(signed),
        private,
        verification_method=_options()["verificationMethod"],
        created=datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC),
    )
    value = secured["proof"]["proofValue"]
    assert multibase_b58_decode(value).hex() == _text("sigHexJCS.txt")
    assert value == _text("sigBTC58JCS.txt")
    assert multibase_b58_encode(bytes.fromhex(_text("sigHexJCS.txt"))) == value
    # The whole secured document, proof members included, equals the published one.
    assert secured == signed


def test_signed_vector_verifies(signed: dict[str, Any]) -> None:
    verified = verify_proof(signed)
    assert verified.verification_method == _options()["verificationMethod"]
    assert verified.created == "2023-02-24T23:36:38Z"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("credentialSubject", "alumniOf"), "The School of Counterfeits"),
        (("validFrom",), "2024-01-01T00:00:00Z"),
        (("proof", "created"), "2023-02-24T23:36:39Z"),
        (("proof", "proofPurpose"), "authentication"),
        (("@context",), ["https://www.w3.org/ns/credentials/v2"]),
    ],
)
def test_tampered_vector_is_rejected(
    signed: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    doc = json.loads(json.dumps(signed))
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(CredentialProofError):
        verify_proof(doc)


def test_other_verification_method_is_rejected(signed: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(signed))
    other = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    doc["proof"]["verificationMethod"] = f"{other}#{other[8:]}"
    with pytest.raises(CredentialProofError):
        verify_proof(doc)
    doc["proof"]["verificationMethod"] = "did:web:example.com#key-1"
    with pytest.raises(DidResolutionError):
        verify_proof(doc)


def test_proof_value_flipped_is_rejected(signed: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(signed))
    raw = bytearray(multibase_b58_decode(doc["proof"]["proofValue"]))
    raw[0] ^= 1
    doc["proof"]["proofValue"] = multibase_b58_encode(bytes(raw))
    with pytest.raises(CredentialProofError):
        verify_proof(doc)
