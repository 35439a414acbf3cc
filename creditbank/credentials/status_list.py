"""W3C Bitstring Status List: the bitstring, its ``encodedList``, entries and list credentials.

``encodedList`` is multibase base64url (no padding) of the GZIP-compressed bitstring; index 0 is
the left-most (most significant) bit of the first byte. A list holds at least 16 KiB (131,072
entries) so that one set bit says little about whose credential it is, and indices are handed out
at random for the same reason. Pure functions: storing which index is set is the caller's job.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from creditbank.credentials.multibase import multibase_b64url_decode, multibase_b64url_encode
from creditbank.errors import CredentialFormatError, CredentialRevokedError, CreditbankError

__all__ = [
    "MIN_LIST_BITS",
    "STATUS_PURPOSE",
    "decode_list",
    "encode_list",
    "read_status_bit",
    "status_entry",
    "status_list_credential",
]

#: 16 KiB of bits: the specification's minimum list size.
MIN_LIST_BITS = 16 * 1024 * 8
STATUS_PURPOSE = "revocation"
#: Refuse to inflate a list beyond this (a zip bomb would otherwise be a denial of service).
_MAX_LIST_BYTES = 16 * 1024 * 1024


def encode_list(set_indices: Iterable[int], size: int = MIN_LIST_BITS) -> str:
    """``encodedList`` for a list of ``size`` bits with ``set_indices`` set (index 0 left-most)."""
    if size < MIN_LIST_BITS or size % 8:
        raise ValueError(f"a status list holds a multiple of 8 bits, at least {MIN_LIST_BITS}")
    bits = bytearray(size // 8)
    for index in set_indices:
        if not 0 <= index < size:
            raise ValueError(f"status index {index} is outside the list of {size}")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same bits always give the same bytes (and the same signature input).
    return multibase_b64url_encode(gzip.compress(bytes(bits), mtime=0))


def decode_list(encoded: object) -> bytes:
    """The uncompressed bitstring of an ``encodedList``."""
    compressed = multibase_b64url_decode(encoded)
    try:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        bits = inflater.decompress(compressed, _MAX_LIST_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise CredentialFormatError("encodedList is too large or truncated")
    except zlib.error as exc:
        raise CredentialFormatError("encodedList is not GZIP data") from exc
    if len(bits) * 8 < MIN_LIST_BITS:
        raise CredentialFormatError(f"a status list holds at least {MIN_LIST_BITS} entries")
    return bits


def status_entry(list_url: str, index: int) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` (purpose revocation) for bit ``index`` of ``list_url``."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str, issuer: Mapping[str, Any], valid_from: str, set_indices: Iterable[int]
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` served at ``list_url``."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": dict(issuer),
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encode_list(set_indices),
        },
    }


def read_status_bit(entry: Any, list_credential: Any) -> bool:
    """Whether ``entry``'s bit is set in ``list_credential`` (whose proof the caller verified).

    Raises :class:`CredentialRevokedError` when the list is not the one the entry names or is not
    for the entry's purpose, :class:`CredentialFormatError` when either is malformed.
    """
    if not isinstance(entry, Mapping) or entry.get("type") != "BitstringStatusListEntry":
        raise CredentialFormatError("credentialStatus is not a BitstringStatusListEntry")
    index_text = entry.get("statusListIndex")
    if not isinstance(index_text, str) or not index_text.isdigit():
        raise CredentialFormatError("statusListIndex must be a decimal string")
    if not isinstance(list_credential, Mapping):
        raise CredentialFormatError("a status list credential is a JSON object")
    if list_credential.get("id") != entry.get("statusListCredential"):
        raise CredentialRevokedError("the status list is not the one the credential names")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise CredentialFormatError("the status list's subject is not a BitstringStatusList")
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise CredentialRevokedError("the status list is for another purpose than the entry")
    try:
        bits = decode_list(subject.get("encodedList"))
    except CreditbankError as exc:
        raise CredentialFormatError(f"encodedList: {exc}") from exc
    index = int(index_text)
    if index >= len(bits) * 8:
        raise CredentialFormatError(f"status index {index} is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
