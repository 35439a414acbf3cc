"""Learners' identities, encrypted under a data key of their own, and erased by destroying it.

Crypto-shredding: each learner's name, ID number and salt are sealed with AES-256-GCM under a
random per-learner data key (the learner id is the associated data, so a sealed row cannot be
moved to another learner). The log never holds the identity, only the salted commitment. Erasure
deletes the key and the sealed row; without the key the ciphertext (in a backup, say) is noise.

On SQLite, erasure runs with ``PRAGMA secure_delete`` (freed bytes are zeroed, not left in free
pages) and then checkpoints the WAL with TRUNCATE, so neither the database file nor its WAL keeps
the key's bytes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, LargeBinary, text
from sqlmodel import Column, Field, Session, SQLModel

from creditbank.accounts.staged_rows import insert_row
from creditbank.errors import NotFoundError, StorageError

__all__ = [
    "LearnerDataKeyRow",
    "SealedIdentity",
    "SealedIdentityRow",
    "open_identity",
    "seal_identity",
    "shred_identity",
]


class LearnerDataKeyRow(SQLModel, table=True):
    """One AES-256 key per learner; deleting it is what erasure means."""

    __tablename__ = "learner_data_keys"

    learner_id: str = Field(primary_key=True, max_length=128)
    data_key: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class SealedIdentityRow(SQLModel, table=True):
    __tablename__ = "learner_sealed_identities"

    learner_id: str = Field(primary_key=True, max_length=128)
    nonce: bytes = Field(sa_column=Column(LargeBinary(12), nullable=False))
    ciphertext: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))


@dataclass(frozen=True)
class SealedIdentity:
    name: str
    id_number: str
    salt: str


def seal_identity(
    session: Session, learner_id: str, *, name: str, id_number: str, salt: str
) -> None:
    """Store the identity encrypted under a fresh data key (both in the caller's transaction)."""
    key = AESGCM.generate_key(bit_length=256)
    nonce = secrets.token_bytes(12)
    plain = json.dumps(
        {"id_number": id_number, "name": name, "salt": salt}, ensure_ascii=False
    ).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, learner_id.encode())
    insert_row(session, LearnerDataKeyRow, learner_id=learner_id, data_key=key)
    insert_row(session, SealedIdentityRow, learner_id=learner_id, nonce=nonce, ciphertext=sealed)


def open_identity(session: Session, learner_id: str) -> SealedIdentity:
    """Decrypt a learner's identity; NotFoundError once it has been erased."""
    key = session.get(LearnerDataKeyRow, learner_id)
    row = session.get(SealedIdentityRow, learner_id)
    if key is None or row is None:
        raise NotFoundError(f"no personal data is held for learner {learner_id!r}")
    try:
        plain = AESGCM(key.data_key).decrypt(row.nonce, row.ciphertext, learner_id.encode())
    except InvalidTag as exc:
        raise StorageError(f"the sealed identity of {learner_id!r} does not decrypt") from exc
    obj = json.loads(plain)
    return SealedIdentity(obj["name"], obj["id_number"], obj["salt"])


def shred_identity(engine: Engine, learner_id: str) -> None:
    """Destroy the learner's data key and sealed identity, leaving no readable trace on SQLite."""
    sqlite = engine.dialect.name == "sqlite"
    with Session(engine) as session:
        if sqlite:
            session.execute(text("PRAGMA secure_delete = ON"))
        key = session.get(LearnerDataKeyRow, learner_id)
        row = session.get(SealedIdentityRow, learner_id)
        # Plaintext rows written before identities were sealed go too.
        legacy = session.execute(
            text("DELETE FROM learner_identities WHERE learner_id = :id"), {"id": learner_id}
        )
        if key is None and row is None and not getattr(legacy, "rowcount", 0):
            raise NotFoundError(f"no personal data is held for learner {learner_id!r}")
        for found in (key, row):
            if found is not None:
                session.delete(found)
        session.commit()
    if sqlite:
        with engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
