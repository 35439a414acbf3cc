"""A test issuer: credentials and status lists signed here, in Python, with the W3C vector key.

An independent eddsa-jcs-2022 signer (``rfc8785`` + ``cryptography``, not the browser library and
not the credentials package), so the page is tested against bytes it did not make itself. The
shapes follow W3C VC 2.0 / CLR 2.0 with a BitstringStatusListEntry and the learner's transcript as
evidence, as the Python side issues them.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "eddsa-jcs-2022"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
VC2 = "https://www.w3.org/ns/credentials/v2"
CLR2 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
LIST_BITS = 131072


def b58decode(text: str) -> bytes:
    number = 0
    for ch in text:
        number = number * 58 + _B58.index(ch)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + body


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = _B58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\x00"))) + out


def vector_key() -> tuple[Ed25519PrivateKey, str]:
    """The W3C vector key and its did:key verification method."""
    pair = json.loads((VECTORS / "keyPair.json").read_text("utf-8"))
    seed = b58decode(pair["privateKeyMultibase"][1:])[2:]
    public = pair["publicKeyMultibase"]
    return Ed25519PrivateKey.from_private_bytes(seed), f"did:key:{public}#{public}"


def sign(document: dict[str, Any], key: Ed25519PrivateKey, vm: str) -> dict[str, Any]:
    """Secure ``document`` with an eddsa-jcs-2022 DataIntegrityProof (vc-di-eddsa 3.3)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2026-01-15T08:00:00Z",
        "verificationMethod": vm,
        "proofPurpose": "assertionMethod",
        "@context": unsecured["@context"],
    }
    data = hashlib.sha256(rfc8785.dumps(config)).digest()
    data += hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    proof = {**config, "proofValue": "z" + b58encode(key.sign(data))}
    return {**unsecured, "proof": proof}


def encoded_list(set_bits: list[int], bits: int = LIST_BITS) -> str:
    data = bytearray(bits // 8)
    for i in set_bits:
        data[i // 8] |= 0x80 >> (i % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(data))).decode().rstrip("=")


def status_list(url: str, issuer: str, set_bits: list[int]) -> dict[str, Any]:
    return {
        "@context": [VC2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": url + "#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list(set_bits),
        },
    }


def credential(
    transcript: dict[str, Any],
    issuer: str,
    status_url: str,
    index: int,
    key: Ed25519PrivateKey,
    vm: str,
) -> dict[str, Any]:
    """An unsigned CLR-shaped credential about the transcript's learner.

    As in CLR 2.0, each achievement also travels as its own signed ``OpenBadgeCredential`` in
    ``credentialSubject.verifiableCredential``.
    """
    learner = transcript["learner_id"]
    document = _clr(transcript, issuer, status_url, index)
    subject = document["credentialSubject"]
    subject["verifiableCredential"] = [
        sign(
            {
                "@context": [VC2, OB3],
                "id": f"{document['id']}:achievement:{position}",
                "type": ["VerifiableCredential", "OpenBadgeCredential"],
                "issuer": document["issuer"],
                "validFrom": document["validFrom"],
                "name": achievement["name"],
                "credentialSubject": {
                    "id": f"urn:creditbank:learner:{learner}",
                    "type": ["AchievementSubject"],
                    "achievement": achievement,
                },
            },
            key,
            vm,
        )
        for position, achievement in enumerate(subject["achievement"])
    ]
    return document


def _clr(transcript: dict[str, Any], issuer: str, status_url: str, index: int) -> dict[str, Any]:
    learner = transcript["learner_id"]
    return {
        "@context": [VC2, CLR2, OB3],
        "id": f"urn:uuid:4d3c1f6e-{index:04d}-4a4b-9c1d-1f2e3d4c5b6a",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "学分银行 creditbank (test)"},
        "name": "学分银行成绩单 Credit bank transcript",
        "validFrom": "2026-01-15T08:00:00Z",
        "credentialSubject": {
            "id": f"urn:creditbank:learner:{learner}",
            "type": ["ClrSubject"],
            "achievement": [
                {
                    "id": "urn:creditbank:achievement:cert-1",
                    "type": ["Achievement"],
                    "name": "电工 四级 Electrician level 4",
                    "achievementType": "Certificate",
                },
                {
                    "id": "urn:creditbank:achievement:course-1",
                    "type": ["Achievement"],
                    "name": "电工基础 4 学分 Electrical basics, 4 credits",
                    "achievementType": "Course",
                },
            ],
        },
        "evidence": [
            {
                "id": f"urn:creditbank:transcript:{learner}",
                "type": ["Evidence"],
                "name": "creditbank transcript",
                "transcript": copy.deepcopy(transcript),
            }
        ],
        "credentialStatus": {
            "id": f"{status_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": status_url,
        },
    }
