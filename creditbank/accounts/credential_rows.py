"""Tables of the credentials the bank issues (``creditbank.credentials``) and of its issuing keys.

They live in ``accounts`` because two entry kinds project onto them
(:mod:`~creditbank.accounts.kinds.credential_key_registered`,
:mod:`~creditbank.accounts.kinds.credential_status_changed`), and kinds may not import the layer
above. Neither is rebuilt from the log (an issued credential is a document the bank signed and
handed out, not a log fact), so both projections are idempotent: a replay leaves them as they are.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["CredentialKeyRow", "IssuedCredentialRow"]


class IssuedCredentialRow(SQLModel, table=True):
    __tablename__ = "issued_credentials"
    __table_args__ = (UniqueConstraint("status_list", "status_index"),)

    #: The random UUID of ``urn:uuid:<id>``, also the share URL's last segment.
    credential_id: str = Field(primary_key=True, max_length=36)
    learner_id: str = Field(index=True, max_length=128)
    status_list: int
    status_index: int
    #: The credential states the learner's history as of this tree size (its transcript's).
    issued_tree_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    issued_at: str = Field(max_length=32)
    with_name: bool
    #: SHA-256 of the transcript entries' indices: the same basis means the same statements.
    basis: str = Field(max_length=64)
    #: The exact signed JSON; blanked when a named credential's learner is erased.
    document: str = Field(sa_column=Column(Text, nullable=False))
    revoked_at: str | None = Field(default=None, max_length=32)
    revoked_reason: str | None = Field(default=None, max_length=200)
    #: The ``credential.status_changed`` log entry that set the bit.
    revoked_index: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class CredentialKeyRow(SQLModel, table=True):
    """A credential-issuing key, as registered on the log (``credential_key.registered``)."""

    __tablename__ = "credential_keys"

    public_key: str = Field(primary_key=True, max_length=44)
    registered_index: int = Field(sa_column=Column(BigInteger, nullable=False))
    registered_at: str = Field(max_length=32)
