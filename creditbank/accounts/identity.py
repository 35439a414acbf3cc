"""Personal data, kept off the log: commitments, and erasure.

The log holds only ``commitment = SHA-256(salt || JCS({"id_number", "name"}))`` (hex). Whoever holds
the identity and the salt can show the commitment is theirs; nobody holding only the log can tell
whose it is, and once the identity (with its salt) is destroyed, nobody can. The learner id is
random, so the balance stays computable after erasure without pointing at a person. The identity
itself is kept sealed under a per-learner key (:mod:`creditbank.accounts.identity_vault`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from creditbank.errors import InputError
from creditbank.ledger.canonical import canonical_bytes

__all__ = ["Identity", "commitment_of", "matches", "new_learner_id", "new_salt"]


@dataclass(frozen=True)
class Identity:
    name: str
    id_number: str
    salt: str

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise InputError("a learner's name must be 1-200 characters")
        if not self.id_number.strip() or len(self.id_number) > 64:
            raise InputError("an ID number must be 1-64 characters")
        if len(self.salt) != 64 or any(c not in "0123456789abcdef" for c in self.salt):
            raise InputError("the salt must be 32 random bytes in lowercase hex")


def new_salt() -> str:
    return secrets.token_hex(32)


def new_learner_id() -> str:
    """A random learner id: it must not be derivable from who the learner is."""
    return "L-" + secrets.token_hex(8)


def commitment_of(identity: Identity) -> str:
    data = canonical_bytes({"id_number": identity.id_number, "name": identity.name})
    return hashlib.sha256(bytes.fromhex(identity.salt) + data).hexdigest()


def matches(identity: Identity, commitment: str) -> bool:
    return hmac.compare_digest(commitment_of(identity), commitment)
