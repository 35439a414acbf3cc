"""The one producer of the bytes that are hashed and signed: RFC 8785 (JCS).

Every signature and every leaf hash in creditbank is over bytes made here, so any client in any
language that implements RFC 8785 reproduces them exactly. Floats are refused outright (the
``rfc8785`` library would accept them): credits are exact decimals carried as strings, so a float in
an entry is a bug that must not become a permanent, signed, slightly-wrong number.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any

import rfc8785

from creditbank.errors import EncodingError

__all__ = ["canonical_bytes", "canonical_object", "parse_canonical", "parse_json"]

#: Largest integer JSON can carry exactly (RFC 8785 3.2.2.3, I-JSON).
_MAX_SAFE_INT = 2**53 - 1

_FAST = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


class _Refused(Exception):
    """Internal: a value RFC 8785 cannot carry; ``where`` collects the path while unwinding."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.where: list[str] = []


def _check(value: Any) -> bool:
    """Refuse what RFC 8785 cannot carry exactly; return whether some object key is outside the BMP.

    Keys outside the Basic Multilingual Plane are the one case where sorting by code point (what
    :func:`json.dumps` does) differs from sorting by UTF-16 code unit (what RFC 8785 requires).
    This runs on every entry appended or audited, so the common types are tested first and the
    path to a refused value is only built when there is one.
    """
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return False
    if kind is int or (isinstance(value, int) and not isinstance(value, bool)):
        if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            raise _Refused(f"integer {value} is outside the exact JSON range")
        return False
    if isinstance(value, str | bool):
        return False
    if isinstance(value, float):
        raise _Refused("floats are not allowed; carry exact decimals as strings")
    astral = False
    if isinstance(value, Mapping):
        for key, item in value.items():
            if type(key) is not str and not isinstance(key, str):
                raise _Refused(f"object keys must be strings, not {type(key).__name__}")
            if not key.isascii() and any(ord(c) > 0xFFFF for c in key):
                astral = True
            try:
                astral = _check(item) or astral
            except _Refused as refused:
                refused.where.append(f".{key}")
                raise
        return astral
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            try:
                astral = _check(item) or astral
            except _Refused as refused:
                refused.where.append(f"[{i}]")
                raise
        return astral
    raise _Refused(f"{kind.__name__} is not a JSON value")


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 encoding of a JSON value built from dict, list, str, int, bool and None.

    Without floats, RFC 8785 output is what :func:`json.dumps` writes with sorted keys, no
    whitespace and no ASCII escaping (same escapes, lowercase ``\\u00xx`` for other control
    characters, integers in decimal), except for the order of object keys outside the BMP. So the
    C encoder does the work, and the ``rfc8785`` library handles that rare case and anything the
    fast path cannot take. A property test checks the two agree.
    """
    try:
        astral = _check(value)
    except _Refused as refused:
        path = "$" + "".join(reversed(refused.where))
        raise EncodingError(f"{path}: {refused.message}") from None
    if not astral:
        try:
            return _FAST.encode(value).encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates
            raise EncodingError(f"not canonicalisable: {exc}") from exc
        except TypeError:  # a Mapping that is not a dict: let rfc8785 decide
            pass
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
        _member_name(name) + value
        for name, value in sorted(members.items(), key=lambda kv: _utf16(kv[0]))
    ]
    return b"{" + b",".join(parts) + b"}"


@functools.lru_cache(maxsize=256)
def _member_name(name: str) -> bytes:
    return canonical_bytes(name) + b":"


@functools.lru_cache(maxsize=256)
def _utf16(name: str) -> bytes:
    return name.encode("utf-16-be")


def parse_json(data: bytes) -> Any:
    """Parse UTF-8 JSON bytes, refusing floats (they have no place in an entry) and duplicate
    member names (which parsers resolve differently, so the bytes would read two ways)."""
    return _decoded(data, _JSON)


def _decoded(data: bytes, decoder: json.JSONDecoder) -> Any:
    try:
        return decoder.decode(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EncodingError(f"not valid UTF-8 JSON: {exc}") from exc


def parse_canonical(data: bytes) -> Any:
    """Parse bytes that must already be canonical; refuse anything that is not byte-identical.

    Used when bytes arrive from outside (a stored leaf, a transcript): what was signed or hashed
    must be exactly what we re-derive, never a re-serialisation of something close to it.

    Every leaf of an audit comes through here, so the common case skips :func:`canonical_bytes`'
    walk over the parsed value: floats and integers outside the exact range are refused while
    parsing, and without characters outside the BMP (no 4-byte UTF-8 sequence in ``data``) the C
    encoder's output is the canonical form. Anything else takes the general path.
    """
    if data.isascii() or _ASTRAL.search(data) is None:
        value = _decoded(data, _STRICT)
        try:
            encoded = _FAST.encode(value).encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates
            raise EncodingError(f"not canonicalisable: {exc}") from exc
    else:
        value = parse_json(data)
        encoded = canonical_bytes(value)
    if encoded != data:
        raise EncodingError("bytes are valid JSON but not in RFC 8785 canonical form")
    return value


#: A lead byte of a 4-byte UTF-8 sequence: a character outside the Basic Multilingual Plane.
_ASTRAL = re.compile(b"[\xf0-\xf4]")


def _exact_int(text: str) -> int:
    value = int(text)
    if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        raise EncodingError(f"integer {text} is outside the exact JSON range")
    return value


def _refuse_float(text: str) -> Any:
    raise EncodingError(f"floats are not allowed (got {text})")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        names = [name for name, _ in pairs]
        twice = sorted({name for name in names if names.count(name) > 1})
        raise EncodingError(f"the member {twice[0]!r} appears twice in one JSON object")
    return members


#: The parsers, built once (``json.loads`` with hooks builds a decoder per call):
#: :func:`parse_json`'s, and :func:`parse_canonical`'s common case, which also refuses integers
#: outside the exact range while parsing.
_JSON = json.JSONDecoder(parse_float=_refuse_float, object_pairs_hook=_unique_members)
_STRICT = json.JSONDecoder(
    parse_float=_refuse_float, parse_int=_exact_int, object_pairs_hook=_unique_members
)
