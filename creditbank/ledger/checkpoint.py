"""Checkpoints: C2SP ``tlog-checkpoint`` bodies inside C2SP ``signed-note`` envelopes.

A checkpoint is the log's signed statement "my tree of N leaves has root R". Using the C2SP formats
unchanged means any signed-note verifier (Go's ``golang.org/x/mod/sumdb/note``, transparency-dev
tools, witnesses) can check ours, and our verifier can check theirs; the test suite proves the
latter with the specification's own example key and note.

Format of a note: the text (ending in a newline), a blank line, then one line per signature
``— <key name> base64(key id (4 bytes, big-endian) || Ed25519 signature)``. Key id is
``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; the verifier key string is
``name+hex8(key id)+base64(0x01 || public key)``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from creditbank.errors import CheckpointError, KeyFormatError, SignatureError

__all__ = [
    "Checkpoint",
    "NoteSigner",
    "NoteVerifier",
    "format_vkey",
    "note_key_id",
    "open_note",
    "parse_vkey",
    "sign_note",
]

_ED25519 = 0x01
_DASH = "\u2014 "
_NAME = re.compile(r"^[^\s+]+$")
_MAX_SIGNATURES = 16


def note_key_id(name: str, algorithm: int, public_raw: bytes) -> bytes:
    """A C2SP signed-note key id: the first 4 bytes of SHA-256(name || LF || algorithm || key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_raw).digest()[:4]


def parse_vkey(vkey: str, algorithm: int, what: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Parse ``name+hex8+base64(algorithm || public key)``, checking the id matches the key.

    Shared by the log's Ed25519 note keys (0x01) and witnesses' ``cosignature/v1`` keys (0x04);
    ``what`` names the key in errors.
    """
    # The name has no '+', but the base64 key may: split at the first two only.
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"a {what} looks like name+hex8+base64")
    name, hex_id, b64 = parts
    _check_name(name)
    try:
        key_id = bytes.fromhex(hex_id)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise KeyFormatError(f"{what} {vkey!r} is not hex8+base64") from exc
    if len(key_id) != 4 or len(raw) != 33 or raw[0] != algorithm:
        raise KeyFormatError(f"a {what} holds a 4-byte id and a 0x{algorithm:02x} Ed25519 key")
    if note_key_id(name, algorithm, raw[1:]) != key_id:
        raise KeyFormatError(f"{what} {name}: id {hex_id} does not match its public key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def format_vkey(name: str, key_id: bytes, algorithm: int, public_key: Ed25519PublicKey) -> str:
    """The ``name+hex8+base64(algorithm || public key)`` form of a verifier key."""
    raw = bytes([algorithm]) + public_key.public_bytes_raw()
    return f"{name}+{key_id.hex()}+{base64.b64encode(raw).decode()}"


def _key_id(name: str, public_raw: bytes) -> bytes:
    return note_key_id(name, _ED25519, public_raw)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise KeyFormatError(f"key name {name!r} must be non-empty with no spaces or '+'")


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: name, 4-byte key id and public key."""

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``name+hex8+base64(0x01||pubkey)``, checking the id matches the key."""
        return cls(*parse_vkey(vkey, _ED25519, "verifier key"))

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, self.key_id, _ED25519, self.public_key)


@dataclass(frozen=True)
class NoteSigner:
    """The log's note-signing key. The private key never leaves this object."""

    name: str
    private_key: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def verifier(self) -> NoteVerifier:
        public = self.private_key.public_key()
        return NoteVerifier(self.name, _key_id(self.name, public.public_bytes_raw()), public)

    def signature_line(self, text: str) -> str:
        sig = self.private_key.sign(text.encode("utf-8"))
        blob = base64.b64encode(self.verifier.key_id + sig).decode()
        return f"{_DASH}{self.name} {blob}\n"


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise CheckpointError("note text must not contain control characters")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """A signed note: ``text``, a blank line, one signature line per signer."""
    _check_text(text)
    if not signers:
        raise ValueError("a note needs at least one signer")
    return text + "\n" + "".join(s.signature_line(text) for s in signers)


def open_note(note: str, verifiers: Iterable[NoteVerifier]) -> tuple[str, list[NoteVerifier]]:
    """Verify ``note`` against trusted keys; return its text and the keys whose signatures verified.

    As the specification requires: signatures from unknown keys are ignored, a signature from a
    known key that fails rejects the whole note, and a note with no verified known signature is
    rejected.
    """
    if not note.endswith("\n"):
        raise CheckpointError("a signed note ends with a newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("a signed note needs a blank line before its signatures")
    text, sig_block = note[: split + 1], note[split + 2 :]
    _check_text(text)
    lines = sig_block.splitlines()
    if not lines:
        raise CheckpointError("a signed note has no signature lines")
    if len(lines) > _MAX_SIGNATURES:
        raise CheckpointError(f"a signed note may carry at most {_MAX_SIGNATURES} signatures")
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[NoteVerifier] = []
    for line in lines:
        if not line.startswith(_DASH):
            raise CheckpointError(f"malformed signature line {line!r}")
        name, _, blob = line[len(_DASH) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckpointError(f"signature of {name} is not base64") from exc
        if len(raw) < 5 or not name:
            raise CheckpointError(f"signature line of {name!r} is too short")
        verifier = known.get((name, raw[:4]))
        if verifier is None:
            continue
        try:
            verifier.public_key.verify(raw[4:], text.encode("utf-8"))
        except InvalidSignature as exc:
            raise SignatureError(f"note signature by {name} does not verify") from exc
        verified.append(verifier)
    if not verified:
        raise CheckpointError("the note carries no signature from a trusted key")
    return text, verified


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise CheckpointError("a checkpoint has an origin, a size and a root hash, each a line")
        origin, size_text, root_text, *extensions = lines[:-1]
        if not origin:
            raise CheckpointError("checkpoint origin line is empty")
        if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
            raise CheckpointError(f"checkpoint tree size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CheckpointError("checkpoint root hash is not base64") from exc
        if len(root) != 32:
            raise CheckpointError("checkpoint root hash must be 32 bytes")
        if any(not line for line in extensions):
            raise CheckpointError("checkpoint extension lines must not be empty")
        return cls(origin, int(size_text), root, tuple(extensions))

    def sign(self, signers: Sequence[NoteSigner]) -> str:
        return sign_note(self.to_text(), signers)

    @classmethod
    def open(
        cls, note: str, verifiers: Iterable[NoteVerifier], *, origin: str | None = None
    ) -> Checkpoint:
        """Verify a signed checkpoint note and parse it; check the origin when given."""
        text, _ = open_note(note, verifiers)
        checkpoint = cls.from_text(text)
        if origin is not None and checkpoint.origin != origin:
            raise CheckpointError(f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
        return checkpoint
