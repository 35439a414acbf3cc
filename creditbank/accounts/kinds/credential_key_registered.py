"""``credential_key.registered``: the log registers the bank's credential-issuing key.

The key that signs W3C credentials (``eddsa-jcs-2022``) is not the log key, so its history must be
visible by itself: the system actor (the log key) appends this entry before the first credential
is issued with a key, so anyone can see from the log when each issuing key came into use.
"""

from __future__ import annotations

from sqlmodel import Session

from creditbank.accounts.credential_rows import CredentialKeyRow
from creditbank.accounts.kinds.base import Admission, Kind, Snapshot
from creditbank.accounts.kinds.fields import Body, PublicKey
from creditbank.errors import ConflictError
from creditbank.ledger.entry import Leaf

__all__ = ["KIND", "CredentialKeyRegistered"]


class CredentialKeyRegistered(Body):
    #: The Ed25519 public key, base64 (its did:key is derived from it).
    public_key: PublicKey


def admit(snapshot: Snapshot, body: CredentialKeyRegistered, _admission: Admission) -> None:
    if snapshot.get(CredentialKeyRow, body.public_key) is not None:
        raise ConflictError("that credential-issuing key is already registered")


def project(session: Session, index: int, leaf: Leaf, body: CredentialKeyRegistered) -> None:
    # merge: a replay of the log finds the row already there and leaves it as it is.
    session.merge(
        CredentialKeyRow(
            public_key=body.public_key, registered_index=index, registered_at=leaf.integrated_at
        )
    )


KIND = Kind(
    entry_type="credential_key.registered",
    body=CredentialKeyRegistered,
    signers=("system",),
    poster=None,
    route=None,
    admit=admit,
    project=project,
)
