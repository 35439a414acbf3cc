"""``did:key`` for Ed25519 keys, and the bank's ``did:web`` document.

A ``did:key`` is the public key itself: ``did:key:z`` + base58btc(multicodec ``0xed 0x01`` ||
32-byte key), so resolving it needs no network. The verification method of a proof is
``did:key:z6Mk...#z6Mk...``. The bank's ``did:web`` document (``/.well-known/did.json``) lists
that verification method under ``assertionMethod``: a verifier who trusts the bank's domain learns
from it which key issues its credentials.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from creditbank.credentials.multibase import multibase_b58_decode, multibase_b58_encode
from creditbank.errors import CredentialFormatError, DidResolutionError

__all__ = [
    "ED25519_PRIV_MULTICODEC",
    "ED25519_PUB_MULTICODEC",
    "did_key",
    "did_key_verification_method",
    "did_web",
    "did_web_document",
    "private_key_from_multibase",
    "public_key_multibase",
    "resolve_verification_method",
]

#: Multicodec ``ed25519-pub`` (0xed) and ``ed25519-priv`` (0x1300), as unsigned varints.
ED25519_PUB_MULTICODEC = b"\xed\x01"
ED25519_PRIV_MULTICODEC = b"\x80\x26"


def public_key_multibase(public: Ed25519PublicKey) -> str:
    """``z6Mk...``: the multikey form of an Ed25519 public key."""
    return multibase_b58_encode(ED25519_PUB_MULTICODEC + public.public_bytes_raw())


def did_key(public: Ed25519PublicKey) -> str:
    return "did:key:" + public_key_multibase(public)


def did_key_verification_method(public: Ed25519PublicKey) -> str:
    """``did:key:z6Mk...#z6Mk...``, the verification method id a proof names."""
    multikey = public_key_multibase(public)
    return f"did:key:{multikey}#{multikey}"


def _public_from_multikey(multikey: str) -> Ed25519PublicKey:
    try:
        raw = multibase_b58_decode(multikey)
    except CredentialFormatError as exc:
        raise DidResolutionError(f"{multikey!r} is not a base58btc multikey") from exc
    if len(raw) != 34 or raw[:2] != ED25519_PUB_MULTICODEC:
        raise DidResolutionError(f"{multikey!r} is not an Ed25519 public key (0xed01, 32 bytes)")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


def resolve_verification_method(method: object) -> Ed25519PublicKey:
    """The Ed25519 key of ``did:key:z6Mk...#z6Mk...`` (the fragment must repeat the key).

    Only ``did:key`` resolves offline; anything else raises :class:`DidResolutionError`.
    """
    if not isinstance(method, str) or not method.startswith("did:key:"):
        raise DidResolutionError(f"verification method {method!r} is not a did:key")
    did, hash_sign, fragment = method[len("did:key:") :].partition("#")
    if not hash_sign or fragment != did:
        raise DidResolutionError(f"verification method {method!r} must be did:key:<key>#<same key>")
    return _public_from_multikey(did)


def private_key_from_multibase(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key in multikey form (``z3u2...``, multicodec 0x1300), e.g. test keys."""
    raw = multibase_b58_decode(text)
    if len(raw) != 34 or raw[:2] != ED25519_PRIV_MULTICODEC:
        raise CredentialFormatError("not an Ed25519 private multikey (0x1300, 32 bytes)")
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def did_web(base_url: str) -> str:
    """``did:web`` of a base URL: host (a port's colon written ``%3A``) then any path, by ``:``."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialFormatError(f"{base_url!r} is not an absolute http(s) URL")
    host = parts.hostname + (f"%3A{parts.port}" if parts.port else "")
    path = [segment for segment in parts.path.split("/") if segment]
    return ":".join(["did:web", host, *path])


def did_web_document(base_url: str, issuing_keys: list[Ed25519PublicKey]) -> dict[str, Any]:
    """The bank's DID document: its credential-issuing keys as Multikey assertion methods."""
    controller = did_web(base_url)
    methods = [
        {
            "id": did_key_verification_method(key),
            "type": "Multikey",
            # A did:key controls itself; the bank's document only vouches for it.
            "controller": did_key(key),
            "publicKeyMultibase": public_key_multibase(key),
        }
        for key in issuing_keys
    ]
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
