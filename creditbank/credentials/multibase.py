"""Multibase text for binary values: base58btc (``z...``) and base64url without padding (``u...``).

The two encodings W3C Data Integrity and Bitstring Status List use. Decoders raise
:class:`~creditbank.errors.CredentialFormatError`, so a malformed value never becomes bytes.
"""

from __future__ import annotations

import base64
import binascii

from creditbank.errors import CredentialFormatError

__all__ = [
    "b58decode",
    "b58encode",
    "multibase_b58_decode",
    "multibase_b58_encode",
    "multibase_b64url_decode",
    "multibase_b64url_encode",
]

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def b58encode(data: bytes) -> str:
    """Bitcoin base58: big-endian base-58 digits, each leading zero byte written as ``1``."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rest = divmod(number, 58)
        digits.append(_B58[rest])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    if not isinstance(text, str):
        raise CredentialFormatError("a base58 value must be a string")
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise CredentialFormatError(f"{char!r} is not a base58btc digit")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_b58_encode(data: bytes) -> str:
    return "z" + b58encode(data)


def multibase_b58_decode(text: object) -> bytes:
    if not isinstance(text, str) or not text.startswith("z"):
        raise CredentialFormatError("expected a multibase base58btc value (starting with 'z')")
    return b58decode(text[1:])


def multibase_b64url_encode(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def multibase_b64url_decode(text: object) -> bytes:
    """Decode ``u`` + base64url; padding is not used by multibase, so it is refused."""
    if not isinstance(text, str) or not text.startswith("u"):
        raise CredentialFormatError("expected a multibase base64url value (starting with 'u')")
    body = text[1:]
    if "=" in body or any(c in body for c in "+/"):
        raise CredentialFormatError("multibase base64url has no padding and no '+' or '/'")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CredentialFormatError("not valid base64url") from exc
