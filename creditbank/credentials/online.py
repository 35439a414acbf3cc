"""The online part of checking a credential: what only the bank's server can tell today.

Offline, a credential proves what the bank signed and what its log held at the transcript's tree
size. Online, a verifier also learns whether the credential has been revoked since (the status
list), whether the signing key is one the bank lists in its ``did:web`` document, and whether the
log has only grown since (a consistency proof from the transcript's checkpoint to the latest).
HTTP is the caller's: :func:`fetch_online` takes a ``fetch(url) -> bytes`` function.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from creditbank.errors import CheckpointError, CredentialFormatError, ProofError
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.merkle_verify import verify_consistency

__all__ = ["Fetch", "OnlineEvidence", "fetch_online"]

Fetch = Callable[[str], bytes]


@dataclass(frozen=True)
class OnlineEvidence:
    status_list: Any
    issuer_methods: list[str]
    log_key: NoteVerifier
    log_key_from_server: bool
    latest: Checkpoint


def _json(fetch: Fetch, url: str, what: str) -> Any:
    try:
        return json.loads(fetch(url))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialFormatError(f"{what} at {url} is not JSON") from exc


def _transcript(document: Mapping[str, Any]) -> Mapping[str, Any]:
    try:
        transcript = document["evidence"][0]["transcript"]
    except (KeyError, IndexError, TypeError) as exc:
        raise CredentialFormatError("the credential carries no transcript evidence") from exc
    if not isinstance(transcript, Mapping):
        raise CredentialFormatError("the credential's transcript evidence is not an object")
    return transcript


def fetch_online(
    document: Mapping[str, Any],
    base_url: str,
    fetch: Fetch,
    *,
    log_key: NoteVerifier | None = None,
) -> OnlineEvidence:
    """Fetch the status list, did.json, log key and latest checkpoint from ``base_url``; check
    that the log grew consistently from the credential's checkpoint to the latest one."""
    base = base_url.rstrip("/")
    status = document.get("credentialStatus")
    list_url = status.get("statusListCredential") if isinstance(status, Mapping) else None
    if not isinstance(list_url, str):
        raise CredentialFormatError("the credential names no status list")
    # The list is fetched from the server asked, at the path the credential names.
    status_list = _json(fetch, base + urlsplit(list_url).path, "the status list")
    did = _json(fetch, base + "/.well-known/did.json", "the did:web document")
    methods = did.get("assertionMethod") if isinstance(did, Mapping) else None
    if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
        raise CredentialFormatError("the did:web document has no assertionMethod list")
    from_server = log_key is None
    if log_key is None:
        log_key = NoteVerifier.from_vkey(fetch(base + "/v1/log/key").decode("utf-8"))
    latest = Checkpoint.open(fetch(base + "/v1/log/checkpoint").decode("utf-8"), [log_key])
    old = Checkpoint.open(str(_transcript(document).get("checkpoint")), [log_key])
    if latest.origin != old.origin:
        raise CheckpointError(f"the server's log is {latest.origin!r}, not {old.origin!r}")
    query = urlencode({"first": old.size, "second": latest.size})
    proof = _json(fetch, f"{base}/v1/log/proof/consistency?{query}", "the consistency proof")
    try:
        hashes = [base64.b64decode(h, validate=True) for h in proof["hashes"]]
    except (KeyError, TypeError, binascii.Error, ValueError) as exc:
        raise ProofError("the consistency proof is malformed") from exc
    verify_consistency(old.size, latest.size, old.root_hash, latest.root_hash, hashes)
    return OnlineEvidence(
        status_list=status_list,
        issuer_methods=list(methods),
        log_key=log_key,
        log_key_from_server=from_server,
        latest=latest,
    )
