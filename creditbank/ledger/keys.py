"""Ed25519 key files: created with mode 0600, encrypted with a passphrase unless explicitly not.

The log key signs every checkpoint, so losing it lets someone forge the log's statements. It is
stored as PKCS#8 PEM encrypted with the best scheme ``cryptography`` offers; an unencrypted file is
allowed only when the caller asks for it by name (``insecure=True``), for local development.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.errors import KeyFormatError

__all__ = ["generate_key", "load_private_key", "save_private_key"]


def generate_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def save_private_key(
    key: Ed25519PrivateKey, path: Path, *, passphrase: bytes | None, insecure: bool = False
) -> None:
    """Write ``key`` to ``path`` (mode 0600, never overwriting an existing file)."""
    if passphrase is None and not insecure:
        raise KeyFormatError(
            "refusing to write an unencrypted private key: give a passphrase "
            "(or ask for an insecure development key explicitly)"
        )
    if passphrase is not None and len(passphrase) < 8:
        raise KeyFormatError("a key passphrase must have at least 8 characters")
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase is not None
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyFormatError(f"{path} already exists; refusing to overwrite a key") from exc
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def load_private_key(path: Path, *, passphrase: bytes | None) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFormatError(f"cannot read key file {path}: {exc.strerror}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as exc:  # encrypted without passphrase, or passphrase for a plain key
        raise KeyFormatError(f"{path}: {exc}") from exc
    except ValueError as exc:
        raise KeyFormatError(f"{path}: not a key, or the passphrase is wrong") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"{path} does not hold an Ed25519 key")
    return key
