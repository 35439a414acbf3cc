"""Build and sign ledger entries on the client, with the actor's own Ed25519 key.

The server never sees a private key: the client builds the entry (type, actor, claimed time, a
fresh nonce, the body), signs its RFC 8785 bytes, and posts the signed entry. The nonce is the
entry's idempotency key, so re-sending the same signed entry can never append twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.ledger.entry import Entry, SignedEntry, key_id_of, public_key_to_b64, sign_entry

__all__ = ["EntrySigner", "new_nonce"]


def new_nonce() -> str:
    """A random nonce (96 bits), unique per actor with overwhelming probability."""
    return "n-" + secrets.token_hex(12)


@dataclass(frozen=True)
class EntrySigner:
    """An actor's identity and signing key; ``clock`` is passed in so tests need no clock tricks."""

    actor_id: str
    private_key: Ed25519PrivateKey = field(repr=False)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)

    @property
    def public_key(self) -> str:
        return public_key_to_b64(self.private_key.public_key())

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def sign(
        self,
        entry_type: str,
        body: Mapping[str, Any],
        *,
        nonce: str | None = None,
        claimed_at: datetime | None = None,
    ) -> SignedEntry:
        entry = Entry.create(
            type=entry_type,
            actor=self.actor_id,
            nonce=nonce or new_nonce(),
            body=body,
            claimed_at=claimed_at or self.clock(),
        )
        return sign_entry(entry, self.private_key)
