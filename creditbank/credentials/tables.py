"""The credentials the bank issued: one row each, with its status list bit.

Not a projection of the log: an issued credential is a document the bank signed and handed out,
kept so that the learner can share it (``GET /v1/credentials/{id}``) and so that its status bit
can be set when the learner's history changes under it. ``document`` is the exact signed JSON.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["IssuedCredentialRow"]


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
    document: str = Field(sa_column=Column(Text, nullable=False))
    revoked_at: str | None = Field(default=None, max_length=32)
    revoked_reason: str | None = Field(default=None, max_length=200)
