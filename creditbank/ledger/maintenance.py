"""Operating a log: create it, audit it, rotate its key, make actor keys.

These are the ledger's own maintenance operations; the CLI calls them with explicit values (the
settings are read at the edge) and prints. They raise domain errors only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from creditbank.errors import ConflictError, KeyFormatError, NotFoundError
from creditbank.ledger.audit import AuditReport, audit_log
from creditbank.ledger.checkpoint import NoteSigner, NoteVerifier
from creditbank.ledger.entry import key_id_of, public_key_to_b64
from creditbank.ledger.keys import generate_key, load_private_key, save_private_key
from creditbank.ledger.log import Log
from creditbank.ledger.sql import SqlLogStore, create_log_schema

__all__ = [
    "ActorKey",
    "InitResult",
    "RotateResult",
    "init_ledger",
    "log_origin",
    "new_actor_key",
    "require_key_protection",
    "rotate_log_key",
    "show_log_keys",
    "verify_ledger",
]


@dataclass(frozen=True)
class InitResult:
    vkey: str
    created_key: bool
    registered: bool


def require_key_protection(key_file: Path, *, passphrase: bytes | None, insecure: bool) -> None:
    """Refuse to go on when a new log key would have to be written unencrypted unasked.

    ``init`` calls this before it touches the database, so a refusal leaves nothing behind.
    """
    if passphrase is None and not insecure and not key_file.exists():
        raise KeyFormatError(
            "set CREDITBANK_LOG_KEY_PASSPHRASE to encrypt the new log key "
            "(or pass --insecure-dev-key for an unencrypted development key)"
        )


def init_ledger(
    engine: Engine,
    *,
    key_file: Path,
    origin: str,
    passphrase: bytes | None,
    insecure: bool,
    now: datetime,
) -> InitResult:
    """Create the log's tables and triggers, and the log key if there is none; record its verifier.

    Idempotent: run again with the same key it changes nothing. It never overwrites a key file and
    refuses a key other than the one on record (that is what ``keys rotate`` is for).
    """
    require_key_protection(key_file, passphrase=passphrase, insecure=insecure)
    create_log_schema(engine)
    store = SqlLogStore(engine)
    on_record = store.log_keys()
    created = False
    if key_file.exists():
        key = load_private_key(key_file, passphrase=passphrase)
    else:
        if on_record:
            raise ConflictError(
                f"this database already has log key {on_record[-1]} but {key_file} does not "
                "exist; give the key file that belongs to this log"
            )
        key = generate_key()
        save_private_key(key, key_file, passphrase=passphrase, insecure=passphrase is None)
        created = True
    log = Log(store, origin=origin, signer=NoteSigner(origin, key))
    vkey = log.verifier.vkey
    if vkey in on_record:
        return InitResult(vkey, created_key=created, registered=False)
    if on_record:
        raise ConflictError(
            f"{key_file} holds {vkey}, but this log's current key is {on_record[-1]}; "
            "use `creditbank keys rotate` to change the log key"
        )
    log.register_key(now=now)
    return InitResult(vkey, created_key=created, registered=True)


# --- verify -----------------------------------------------------------------------------------


def verify_ledger(
    engine: Engine,
    *,
    origin: str,
    trusted: Sequence[str] = (),
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Audit the whole log (see :func:`~creditbank.ledger.audit.audit_log`); raise TamperError.

    ``trusted`` verifier keys come from outside the database (the operator's copy, a witness);
    without them the checkpoints are checked against the keys the database itself records, which
    proves internal consistency but not that the database is the log you think it is.
    """
    verifiers = [NoteVerifier.from_vkey(vkey) for vkey in trusted]
    return audit_log(
        SqlLogStore(engine),
        origin=origin,
        trusted=verifiers or None,
        workers=workers,
        progress=progress,
    )


# --- keys -------------------------------------------------------------------------------------


def show_log_keys(engine: Engine) -> list[str]:
    """Every log verifier key on record, oldest first; the last one signs new checkpoints."""
    keys = SqlLogStore(engine).log_keys()
    if not keys:
        raise NotFoundError("this log has no key on record; run `creditbank init`")
    return keys


@dataclass(frozen=True)
class RotateResult:
    old_vkey: str
    new_vkey: str
    retired_key_file: Path


def rotate_log_key(
    engine: Engine,
    *,
    key_file: Path,
    origin: str,
    passphrase: bytes | None,
    insecure: bool,
    now: datetime,
) -> RotateResult:
    """Replace the log key: the new key signs a checkpoint of the current tree; the old stays on
    record (so every checkpoint it signed still verifies) and its file is kept beside the new one.

    Order matters for a crash at any point: the new key is written to a fresh file first, then
    recorded and used, and only then do the files change names; no key file is ever overwritten.
    """
    if passphrase is None and not insecure:
        raise KeyFormatError(
            "set CREDITBANK_LOG_KEY_PASSPHRASE to encrypt the new log key "
            "(or pass --insecure-dev-key for an unencrypted development key)"
        )
    store = SqlLogStore(engine)
    old_key = load_private_key(key_file, passphrase=passphrase)
    old = NoteSigner(origin, old_key).verifier.vkey
    on_record = store.log_keys()
    if not on_record or on_record[-1] != old:
        raise ConflictError(f"{key_file} does not hold this log's current key; nothing rotated")
    retired = key_file.with_name(f"{key_file.name}.retired-{old.split('+')[1]}")
    staged = key_file.with_name(f"{key_file.name}.new")
    if retired.exists() or staged.exists():
        raise ConflictError(f"{retired} or {staged} already exists; move it away first")
    new_key = generate_key()
    save_private_key(new_key, staged, passphrase=passphrase, insecure=passphrase is None)
    log = Log(store, origin=origin, signer=NoteSigner(origin, new_key))
    log.register_key(now=now)
    os.replace(key_file, retired)
    os.replace(staged, key_file)
    return RotateResult(old, log.verifier.vkey, retired)


@dataclass(frozen=True)
class ActorKey:
    public_key: str
    key_id: str
    path: Path
    encrypted: bool


def new_actor_key(path: Path, *, passphrase: bytes | None, insecure: bool) -> ActorKey:
    """Generate an actor's Ed25519 key pair into ``path`` (mode 0600, never overwritten)."""
    key = generate_key()
    save_private_key(key, path, passphrase=passphrase, insecure=insecure)
    public = public_key_to_b64(key.public_key())
    return ActorKey(public, key_id_of(public), path, encrypted=passphrase is not None)


def log_origin(engine: Engine) -> str | None:
    """The origin this log signs its checkpoints for: the name of its current verifier key.

    A signed-note key is named after the log's origin (C2SP), so the database itself says which
    log it is; ``None`` when no key is on record yet.
    """
    keys = SqlLogStore(engine).log_keys()
    if not keys:
        return None
    try:
        return NoteVerifier.from_vkey(keys[-1]).name
    except KeyFormatError:  # a damaged key record: the audit itself will say what is wrong
        return None
