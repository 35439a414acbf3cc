"""C2SP ``tlog-cosignature`` (Ed25519, ``cosignature/v1``): witnesses' signatures on checkpoints.

A cosignature is an ordinary signed-note signature line whose key id is
``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and whose signature blob is
``key id || u64 timestamp (big-endian) || Ed25519 signature`` over the message::

    cosignature/v1
    time <timestamp>
    <the whole checkpoint body, final newline included>

The 0x04 type byte makes a cosigner key id differ from any log (0x01) key id, so a plain note
verifier simply ignores cosignature lines, and these functions ignore the log's line.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from creditbank.errors import CheckpointError, KeyFormatError, SignatureError
from creditbank.ledger.checkpoint import format_vkey, note_key_id, parse_vkey

__all__ = [
    "Cosignature",
    "Cosigner",
    "CosignerVerifier",
    "add_signature_lines",
    "cosigned_message",
    "split_note",
    "verify_cosignatures",
]

_COSIGNATURE_V1 = 0x04
_DASH = "\u2014 "
_NAME = re.compile(r"^[^\s+]+$")
_MAX_TIME = 2**63 - 1


def _key_id(name: str, public_raw: bytes) -> bytes:
    return note_key_id(name, _COSIGNATURE_V1, public_raw)


def cosigned_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a ``cosignature/v1`` signs for ``checkpoint_text`` (the note body)."""
    if not 0 <= timestamp <= _MAX_TIME:
        raise CheckpointError("a cosignature timestamp is between 0 and 2^63 - 1")
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class CosignerVerifier:
    """A witness's public key as clients trust it: name, key id, Ed25519 key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignerVerifier:
        """Parse a ``name+hex8+base64(0x04 || public key)`` verifier key."""
        return cls(*parse_vkey(vkey, _COSIGNATURE_V1, "witness key"))

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, self.key_id, _COSIGNATURE_V1, self.public_key)


@dataclass(frozen=True)
class Cosigner:
    """A witness's signing key. The private key never leaves this object."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise KeyFormatError(f"witness name {self.name!r} must be non-empty, no spaces or '+'")

    @property
    def verifier(self) -> CosignerVerifier:
        public = self.private_key.public_key()
        return CosignerVerifier(self.name, _key_id(self.name, public.public_bytes_raw()), public)

    def signature_line(self, checkpoint_text: str, timestamp: int) -> str:
        sig = self.private_key.sign(cosigned_message(checkpoint_text, timestamp))
        blob = self.verifier.key_id + struct.pack(">Q", timestamp) + sig
        return f"{_DASH}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Cosignature:
    """A cosignature that verified: who, and the time the witness stated."""

    witness: CosignerVerifier
    timestamp: int


def split_note(note: str) -> tuple[str, list[str]]:
    """A signed note's body and its signature lines (each without its newline)."""
    split = note.rfind("\n\n")
    if not note.endswith("\n") or split < 0:
        raise CheckpointError("a signed note is a body, a blank line and signature lines")
    return note[: split + 1], note[split + 2 :].splitlines()


def add_signature_lines(note: str, lines: Iterable[str]) -> str:
    """``note`` with extra signature lines appended (those already present are not repeated)."""
    _, present = split_note(note)
    extra = [line.rstrip("\n") for line in lines if line.rstrip("\n") not in present]
    for line in extra:
        if not line.startswith(_DASH):
            raise CheckpointError(f"not a note signature line: {line!r}")
    return note + "".join(line + "\n" for line in extra)


def verify_cosignatures(
    note: str, witnesses: Sequence[CosignerVerifier], *, threshold: int | None = None
) -> list[Cosignature]:
    """Check the cosignatures of trusted ``witnesses`` on ``note``; return the valid ones.

    Lines of unknown keys are ignored; a line of a known key that does not verify rejects the note
    (as for signed notes). With ``threshold``, fewer valid cosignatures than that is an error.
    """
    text, lines = split_note(note)
    known = {(w.name, w.key_id): w for w in witnesses}
    found: dict[str, Cosignature] = {}
    for line in lines:
        if not line.startswith(_DASH):
            raise CheckpointError(f"malformed signature line {line!r}")
        name, _, blob = line[len(_DASH) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckpointError(f"signature of {name} is not base64") from exc
        witness = known.get((name, raw[:4]))
        if witness is None:
            continue
        if len(raw) != 4 + 8 + 64:
            raise CheckpointError(f"cosignature of {name} is not 76 bytes")
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        try:
            witness.public_key.verify(raw[12:], cosigned_message(text, timestamp))
        except InvalidSignature as exc:
            raise SignatureError(f"cosignature by witness {name} does not verify") from exc
        found[witness.vkey] = Cosignature(witness, timestamp)
    if threshold is not None and len(found) < threshold:
        raise CheckpointError(
            f"the checkpoint carries {len(found)} valid cosignature(s) from the given witnesses; "
            f"{threshold} required"
        )
    return list(found.values())
