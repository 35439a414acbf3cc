"""Entries, their Ed25519 signatures, and the leaf objects the log stores.

Three layers of one record, each a frozen dataclass that can only exist when valid:

* :class:`Entry` is what an actor says: ``type``, ``actor``, ``claimed_at``, ``nonce`` and a
  type-specific ``body``. Its signed bytes are ``ENTRY_DOMAIN || JCS(entry)``; the prefix keeps an
  entry signature from ever being valid for any other message type (a checkpoint, a token).
* :class:`SignedEntry` adds the signature block ``{"alg", "public_key", "sig"}``. The public key
  travels with the signature so that any third party can check every signature offline from the
  leaf alone; whether that key *belonged to that actor at that time* is a rule of the accounts
  layer, which knows the actor registry.
* :class:`Leaf` is what the log commits to: the signed entry plus the log's ``integrated_at``. Its
  bytes are ``JCS(leaf object)``; they are stored as they are and hashed on every verification.
  An entry about a learner also carries, added by the log at integration, a :class:`LearnerLink`
  (``chain``): the learner key, the entry's sequence number in that learner's history and the leaf
  hash of that learner's previous entry. Leaves without a learner are byte-for-byte as before.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from creditbank.errors import EntryFormatError, SignatureError
from creditbank.ledger.canonical import (
    canonical_bytes,
    canonical_object,
    parse_canonical,
)

__all__ = [
    "ENTRY_DOMAIN",
    "Entry",
    "Leaf",
    "LearnerLink",
    "SignedEntry",
    "format_time",
    "key_id_of",
    "parse_time",
    "public_key_from_b64",
    "public_key_to_b64",
    "sign_entry",
]

ENTRY_DOMAIN = b"creditbank-entry/v1\n"
SIGNATURE_ALG = "Ed25519"

_TYPE = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,128}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and a ``Z``: one spelling per instant, so bytes are stable."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str, what: str = "time") -> datetime:
    if not isinstance(text, str) or not _TIME.match(text):
        raise EntryFormatError(f"{what} must be RFC 3339 UTC like 2026-01-31T08:00:00Z")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EntryFormatError(f"{what} is not a real date and time: {text}") from exc


def public_key_to_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes_raw()).decode("ascii")


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise EntryFormatError("public_key is not base64") from exc
    if len(raw) != 32:
        raise EntryFormatError("public_key must be a 32-byte Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw)


def _cached_public_key(text: Any) -> Ed25519PublicKey:
    """Actors sign many entries with one key: decode each key once (verification hot path)."""
    if not isinstance(text, str):
        raise EntryFormatError("public_key is not base64")
    return _public_key_memo(text)


_public_key_memo = functools.lru_cache(maxsize=4096)(public_key_from_b64)


def key_id_of(public_key_b64: str) -> str:
    """Short stable id of an actor key: the first 8 bytes of SHA-256 of the raw key, in hex."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def _require_keys(obj: Any, required: set[str], what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise EntryFormatError(f"{what} must be a JSON object")
    keys = set(obj)
    if keys != required:
        missing, extra = sorted(required - keys), sorted(keys - required)
        detail = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unknown {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise EntryFormatError(f"{what}: {detail}")
    return obj


@dataclass(frozen=True, eq=False)
class Entry:
    """What an actor asserts. Construct with :meth:`create` or :meth:`from_json`."""

    type: str
    actor: str
    claimed_at: str
    nonce: str
    body: Mapping[str, Any]
    canonical: bytes = field(repr=False)

    @classmethod
    def create(
        cls, *, type: str, actor: str, nonce: str, body: Mapping[str, Any], claimed_at: datetime
    ) -> Entry:
        return cls.from_json(
            {
                "type": type,
                "actor": actor,
                "claimed_at": format_time(claimed_at),
                "nonce": nonce,
                "body": dict(body),
            }
        )

    @classmethod
    def from_json(cls, obj: Any, *, canonical: bytes | None = None) -> Entry:
        """Check and build an entry. ``canonical`` is for callers that cut the entry's bytes out
        of a canonical encoding they have checked (:meth:`Leaf.from_bytes`); anyone else leaves
        it out and the bytes are encoded here."""
        obj = _require_keys(obj, {"type", "actor", "claimed_at", "nonce", "body"}, "entry")
        if not isinstance(obj["type"], str) or not _TYPE.match(obj["type"]):
            raise EntryFormatError("entry.type must look like 'certificate.issued'")
        if not isinstance(obj["actor"], str) or not _ACTOR.match(obj["actor"]):
            raise EntryFormatError("entry.actor must be 1-128 of A-Z a-z 0-9 _ . : -")
        if not isinstance(obj["nonce"], str) or not _NONCE.match(obj["nonce"]):
            raise EntryFormatError("entry.nonce must be 8-128 of A-Z a-z 0-9 _ -")
        parse_time(obj["claimed_at"], "entry.claimed_at")
        if not isinstance(obj["body"], Mapping):
            raise EntryFormatError("entry.body must be a JSON object")
        data = dict(obj)
        return cls(
            type=data["type"],
            actor=data["actor"],
            claimed_at=data["claimed_at"],
            nonce=data["nonce"],
            body=data["body"],
            canonical=canonical if canonical is not None else canonical_bytes(data),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "actor": self.actor,
            "claimed_at": self.claimed_at,
            "nonce": self.nonce,
            "body": self.body,
        }

    @property
    def signed_message(self) -> bytes:
        return ENTRY_DOMAIN + self.canonical


@dataclass(frozen=True, eq=False)
class SignedEntry:
    """An entry with its actor's Ed25519 signature. Existence does not imply a valid signature:
    call :meth:`verify` (the log does, on every append and every audit)."""

    entry: Entry
    public_key: str
    signature: str

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    @classmethod
    def from_json(cls, obj: Any, *, canonical: bytes | None = None) -> SignedEntry:
        """``canonical``: the entry's canonical bytes when the caller already holds them (a
        slice of canonical leaf bytes); see :meth:`Entry.from_json`."""
        obj = _require_keys(obj, {"entry", "signature"}, "signed entry")
        sig = _require_keys(obj["signature"], {"alg", "public_key", "sig"}, "signature")
        if sig["alg"] != SIGNATURE_ALG:
            raise EntryFormatError(f"signature.alg must be {SIGNATURE_ALG!r}")
        _cached_public_key(sig["public_key"])
        _decode_sig(sig["sig"])
        return cls(
            entry=Entry.from_json(obj["entry"], canonical=canonical),
            public_key=sig["public_key"],
            signature=sig["sig"],
        )

    def signature_json(self) -> dict[str, str]:
        return {"alg": SIGNATURE_ALG, "public_key": self.public_key, "sig": self.signature}

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry.to_json(), "signature": self.signature_json()}

    def verify(self) -> None:
        """Raise :class:`SignatureError` unless the signature is valid for the embedded key."""
        try:
            _cached_public_key(self.public_key).verify(
                _decode_sig(self.signature), self.entry.signed_message
            )
        except InvalidSignature as exc:
            raise SignatureError(
                f"signature of entry {self.entry.type} by {self.entry.actor} "
                f"(nonce {self.entry.nonce}) does not verify"
            ) from exc


def _decode_sig(text: Any) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise EntryFormatError("signature.sig is not base64") from exc
    if len(raw) != 64:
        raise EntryFormatError("signature.sig must be a 64-byte Ed25519 signature")
    return raw


def sign_entry(entry: Entry, private_key: Ed25519PrivateKey) -> SignedEntry:
    signature = private_key.sign(entry.signed_message)
    return SignedEntry(
        entry=entry,
        public_key=public_key_to_b64(private_key.public_key()),
        signature=base64.b64encode(signature).decode("ascii"),
    )


@dataclass(frozen=True)
class LearnerLink:
    """One link of a learner's history chain: ``seq`` counts from 1; ``prev`` is the leaf hash of
    the learner's previous entry (``None`` for the first)."""

    learner: str
    seq: int
    prev: bytes | None

    def to_json(self) -> dict[str, Any]:
        prev = base64.b64encode(self.prev).decode("ascii") if self.prev is not None else None
        return {"learner": self.learner, "prev": prev, "seq": self.seq}

    @classmethod
    def from_json(cls, obj: Any) -> LearnerLink:
        obj = _require_keys(obj, {"learner", "prev", "seq"}, "leaf.chain")
        learner, seq, prev = obj["learner"], obj["seq"], obj["prev"]
        if not isinstance(learner, str) or not _ACTOR.match(learner):
            raise EntryFormatError("leaf.chain.learner must be 1-128 of A-Z a-z 0-9 _ . : -")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise EntryFormatError("leaf.chain.seq must be a positive integer")
        if prev is None:
            if seq != 1:
                raise EntryFormatError("leaf.chain.prev may be null only for seq 1")
            return cls(learner, seq, None)
        try:
            raw = base64.b64decode(prev, validate=True)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise EntryFormatError("leaf.chain.prev is not base64") from exc
        if len(raw) != 32 or seq == 1:
            raise EntryFormatError("leaf.chain.prev must be a 32-byte hash, and null for seq 1")
        return cls(learner, seq, raw)


def _entry_bytes(data: bytes) -> bytes:
    """The ``entry`` member's value inside canonical leaf bytes.

    Canonical members sort as ``chain``, ``entry``, ``integrated_at``, ``signature``: the entry
    starts after the first ``"entry":`` (a learner link cannot contain one) and ends before the
    last ``,"integrated_at":"`` (neither the time stamp nor the signature can contain one). Only
    valid on bytes already known to be canonical."""
    start = data.index(b'"entry":') + len(b'"entry":')
    return data[start : data.rindex(b',"integrated_at":"')]


@dataclass(frozen=True, eq=False)
class Leaf:
    """The object the log commits to; ``data`` is exactly the stored, hashed bytes."""

    signed: SignedEntry
    integrated_at: str
    data: bytes = field(repr=False)
    chain: LearnerLink | None = None

    @classmethod
    def wrap(cls, signed: SignedEntry, integrated_at: datetime) -> Leaf:
        return cls.wrap_at(signed, format_time(integrated_at))

    @classmethod
    def wrap_at(cls, signed: SignedEntry, stamp: str, chain: LearnerLink | None = None) -> Leaf:
        parts = {
            "entry": signed.entry.canonical,
            "integrated_at": canonical_bytes(stamp),
            "signature": canonical_bytes(signed.signature_json()),
        }
        if chain is not None:
            parts["chain"] = canonical_bytes(chain.to_json())
        data = canonical_object(parts)
        return cls(signed=signed, integrated_at=stamp, data=data, chain=chain)

    @classmethod
    def from_bytes(cls, data: bytes) -> Leaf:
        """Parse stored or received leaf bytes; they must be canonical, byte for byte.

        The whole leaf is checked against its canonical encoding once (:func:`parse_canonical`);
        the entry's canonical bytes, which its signature covers, are then a slice of ``data``
        rather than a second encoding (the audit parses every leaf of the log)."""
        obj = parse_canonical(data)
        base = {"entry", "integrated_at", "signature"}
        chained = isinstance(obj, Mapping) and "chain" in obj
        obj = _require_keys(obj, base | {"chain"} if chained else base, "leaf")
        parse_time(obj["integrated_at"], "leaf.integrated_at")
        signed = SignedEntry.from_json(
            {"entry": obj["entry"], "signature": obj["signature"]}, canonical=_entry_bytes(data)
        )
        chain = LearnerLink.from_json(obj["chain"]) if chained else None
        return cls(signed=signed, integrated_at=obj["integrated_at"], data=data, chain=chain)

    @classmethod
    def from_audited_bytes(cls, data: bytes) -> Leaf:
        """Parse leaf bytes that an audit in this same run has already checked with
        :meth:`from_bytes` (canonical, well-formed, signature verified).

        The replays that follow the ledger audit in ``creditbank verify`` (authority, read models,
        conversions) read every leaf again; re-deriving its canonical form each time was most of
        their cost. Here the JSON is only decoded, and the entry's canonical bytes are cut out of
        ``data`` (:func:`_entry_bytes`). Never call this on bytes nobody audited; bytes that
        changed since (they are read again) and no longer have a leaf's shape are refused.
        """
        try:
            return cls._decoded(data)
        except (EntryFormatError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EntryFormatError(f"leaf bytes changed since they were audited: {exc}") from exc

    @classmethod
    def _decoded(cls, data: bytes) -> Leaf:
        obj = json.loads(data.decode("utf-8"))  # str: json.loads(bytes) sniffs the encoding
        raw_entry, raw_sig, raw_chain = obj["entry"], obj["signature"], obj.get("chain")
        entry = Entry(
            type=raw_entry["type"],
            actor=raw_entry["actor"],
            claimed_at=raw_entry["claimed_at"],
            nonce=raw_entry["nonce"],
            body=raw_entry["body"],
            canonical=_entry_bytes(data),
        )
        signed = SignedEntry(
            entry=entry, public_key=raw_sig["public_key"], signature=raw_sig["sig"]
        )
        chain = LearnerLink.from_json(raw_chain) if raw_chain is not None else None
        return cls(signed=signed, integrated_at=obj["integrated_at"], data=data, chain=chain)

    def with_chain(self, chain: LearnerLink) -> Leaf:
        """This leaf with a learner link added: ``"chain"`` sorts first among the members, so the
        canonical bytes are the link spliced in front of the others (no re-encoding; the append
        hot path). Equal to :meth:`wrap_at` with ``chain``, which a property test checks."""
        if self.chain is not None:
            raise ValueError("this leaf already has a learner link")
        if not _ACTOR.match(chain.learner):
            raise EntryFormatError("a learner key must be 1-128 of A-Z a-z 0-9 _ . : -")
        prev = b"null" if chain.prev is None else b'"' + base64.b64encode(chain.prev) + b'"'
        link = b'{"learner":"%s","prev":%s,"seq":%d}' % (chain.learner.encode(), prev, chain.seq)
        data = b'{"chain":' + link + b"," + self.data[1:]
        return Leaf(signed=self.signed, integrated_at=self.integrated_at, data=data, chain=chain)

    def to_json(self) -> dict[str, Any]:
        out = {
            "entry": self.signed.entry.to_json(),
            "integrated_at": self.integrated_at,
            "signature": self.signed.signature_json(),
        }
        if self.chain is not None:
            out["chain"] = self.chain.to_json()
        return out

    @property
    def entry(self) -> Entry:
        return self.signed.entry
