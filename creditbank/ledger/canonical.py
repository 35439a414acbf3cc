"""The one producer of the bytes that are hashed and signed: RFC 8785 (JCS).

Every signature and every leaf hash in creditbank is over bytes made here, so any client in any
language that implements RFC 8785 reproduces them exactly. Floats are refused outright (the
``rfc8785`` library would accept them): credits are exact decimals carried as strings, so a float in
an entry is a bug that must not become a permanent, signed, slightly-wrong number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import rfc8785

from creditbank.errors import EncodingError

__all__ = ["canonical_bytes", "canonical_object", "parse_canonical", "parse_json"]

#: Largest integer JSON can carry exactly (RFC 8785 3.2.2.3, I-JSON).
_MAX_SAFE_INT = 2**53 - 1


def _check(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise EncodingError(f"{path}: integer {value} is outside the exact JSON range")
        return
    if isinstance(value, float):
        raise EncodingError(f"{path}: floats are not allowed; carry exact decimals as strings")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError(
                    f"{path}: object keys must be strings, not {type(key).__name__}"
                )
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    raise EncodingError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 encoding of a JSON value built from dict, list, str, int, bool and None."""
    _check(value, "$")
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:  # e.g. lone surrogates in a string
        raise EncodingError(f"not canonicalisable: {exc}") from exc


def canonical_object(members: Mapping[str, bytes]) -> bytes:
    """Assemble the canonical encoding of an object whose member values are already canonical.

    RFC 8785 is compositional: an object is ``{`` + members sorted by the UTF-16 code units of their
    names + ``}``, each value in its own canonical form. Wrapping an already-encoded signed entry
    into a leaf this way avoids encoding the entry a second time on the append hot path; a property
    test checks it against :func:`canonical_bytes`.
    """
    parts = [
        canonical_bytes(name) + b":" + value
        for name, value in sorted(members.items(), key=lambda kv: kv[0].encode("utf-16-be"))
    ]
    return b"{" + b",".join(parts) + b"}"


def parse_json(data: bytes) -> Any:
    """Parse UTF-8 JSON bytes, refusing floats (they have no place in an entry)."""
    try:
        return json.loads(data.decode("utf-8"), parse_float=_refuse_float)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EncodingError(f"not valid UTF-8 JSON: {exc}") from exc


def parse_canonical(data: bytes) -> Any:
    """Parse bytes that must already be canonical; refuse anything that is not byte-identical.

    Used when bytes arrive from outside (a stored leaf, a transcript): what was signed or hashed
    must be exactly what we re-derive, never a re-serialisation of something close to it.
    """
    value = parse_json(data)
    if canonical_bytes(value) != data:
        raise EncodingError("bytes are valid JSON but not in RFC 8785 canonical form")
    return value


def _refuse_float(text: str) -> Any:
    raise EncodingError(f"floats are not allowed (got {text})")
