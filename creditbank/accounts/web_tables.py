"""The web app's tables: sessions and one-time sign-in codes (created by migration 0006_web_sessions).

Both keep only SHA-256 hashes of their secrets, so a copy of the database cannot be used to sign
in. They are SQLAlchemy Core tables on the models' metadata (so migrations and the schema test see
them); only :mod:`creditbank.web` reads or writes them. They are not projections of the log.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table
from sqlmodel import SQLModel

__all__ = ["SIGNIN_CODES", "WEB_SESSIONS"]

metadata = SQLModel.metadata

WEB_SESSIONS = Table(
    "web_sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("actor_id", String(128), nullable=True, index=True),
    Column("learner_id", String(128), nullable=True, index=True),
    #: How the session was opened: ``token:<sha256 of the bearer token>`` (or an OIDC subject).
    Column("credential", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)

SIGNIN_CODES = Table(
    "web_signin_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("used_at", String(32), nullable=True),
)
