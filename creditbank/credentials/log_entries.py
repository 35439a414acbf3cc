"""The credential events the log records: the issuing key's registration, each status change.

Both are appended by the system actor (signed with the log key) through the bank's one write path,
with nonces derived from what they record, so a retry or a second process racing to append the
same event is answered with the original receipt instead of a second entry.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlmodel import Session

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.credential_rows import CredentialKeyRow
from creditbank.accounts.unit_of_work import Submission
from creditbank.errors import ConflictError, StorageError
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry
from creditbank.ledger.merkle import leaf_hash

__all__ = ["StatusChange", "proven_entry", "record_status_changes", "register_issuing_key"]

#: Reason codes of the log's closed set (``REASON_CODES``).
HISTORY_CHANGED = "source-withdrawn"
ERASED = "withdrawn-by-issuer"


@dataclass(frozen=True)
class StatusChange:
    status_list: int
    status_index: int
    reason: str


def _system_signed(
    bank: CreditBank, entry_type: str, nonce: str, body: dict[str, Any], now: datetime
) -> SignedEntry:
    signer = bank.log.signer
    if signer is None:
        raise StorageError("recording a credential event needs the log key")
    entry = Entry.create(
        type=entry_type, actor=SYSTEM_ACTOR, nonce=nonce, body=body, claimed_at=now
    )
    return sign_entry(entry, signer.private_key)


def register_issuing_key(bank: CreditBank, public_key: Ed25519PublicKey, *, now: datetime) -> int:
    """The log index of the key's ``credential_key.registered`` entry, appending it if needed."""
    encoded = public_key_to_b64(public_key)
    with Session(bank.engine) as session:
        row = session.get(CredentialKeyRow, encoded)
        if row is not None:
            return row.registered_index
    digest = hashlib.sha256(public_key.public_bytes_raw()).hexdigest()[:32]
    signed = _system_signed(
        bank,
        "credential_key.registered",
        f"credential-key-{digest}",
        {"public_key": encoded},
        now,
    )
    try:
        return bank.submit(signed).index
    except ConflictError:  # another process registered it between our read and our append
        with Session(bank.engine) as session:
            row = session.get(CredentialKeyRow, encoded)
            if row is None:
                raise
            return row.registered_index


def record_status_changes(
    bank: CreditBank, changes: Sequence[StatusChange], *, now: datetime
) -> None:
    """Append one ``credential.status_changed`` per change (its projection sets the bit).

    Each stands alone: a bit another process set meanwhile is refused as a conflict and skipped.
    """
    submissions = [
        Submission(
            _system_signed(
                bank,
                "credential.status_changed",
                f"credential-status-{change.status_list}-{change.status_index}",
                {
                    "status_list": change.status_list,
                    "status_index": change.status_index,
                    "status_purpose": "revocation",
                    "reason": change.reason,
                },
                now,
            )
        )
        for change in changes
    ]
    for outcome in bank.submit_group(submissions):
        if isinstance(outcome, Exception) and not isinstance(outcome, ConflictError):
            raise outcome


def proven_entry(bank: CreditBank, index: int, tree_size: int) -> dict[str, Any]:
    """One log entry with its RFC 9162 inclusion proof at ``tree_size`` (transcript format)."""

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    leaf = bank.log.leaf(index)
    return {
        "index": index,
        "leaf": leaf.to_json(),
        "leaf_hash": b64(leaf_hash(leaf.data)),
        "inclusion_proof": [b64(h) for h in bank.log.inclusion_proof(index, tree_size)],
    }
