"""API bearer tokens: random, shown once, stored as SHA-256 hashes.

A token is bound to an actor (admin, provider, registrar) or to a learner. Only the hash is kept,
so a leaked database grants no access; comparison is by hash lookup, never by the plaintext.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from creditbank.accounts.admin_audit import record_action
from creditbank.accounts.tables import ActorRow, LearnerRow, TokenRow
from creditbank.errors import AuthenticationError, InputError, NotFoundError
from creditbank.ledger.entry import format_time

__all__ = ["Principal", "Role", "authenticate", "hash_token", "issue_token", "revoke_token"]

Role = Literal["admin", "provider", "registrar", "learner"]
_PREFIX = "cbt_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, and the actor or learner the token is bound to."""

    role: Role
    actor_id: str | None = None
    learner_id: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(
    session: Session,
    *,
    now: datetime,
    actor_id: str | None = None,
    learner_id: str | None = None,
    label: str = "",
    by: Principal | None = None,
) -> str:
    """Create a token for an actor (its role) or a learner; return the plaintext, once.

    ``by`` (the caller) is recorded in the admins' audit table in the same transaction.
    """
    if (actor_id is None) == (learner_id is None):
        raise InputError("a token is bound to exactly one actor or one learner")
    role: str
    if actor_id is not None:
        actor = session.get(ActorRow, actor_id)
        if actor is None or actor.role == "system":
            raise NotFoundError(f"actor {actor_id!r} is not registered")
        if actor.role == "institution":
            raise InputError(
                f"{actor_id} is an institution: it posts nothing itself; issue tokens to its "
                "registrars"
            )
        role = actor.role
    else:
        if session.get(LearnerRow, learner_id) is None:
            raise NotFoundError(f"learner {learner_id!r} is not registered")
        role = "learner"
    token = _PREFIX + secrets.token_urlsafe(32)
    if by is not None:
        holder = f"actor {actor_id}" if actor_id is not None else f"learner {learner_id}"
        record_action(
            session,
            now=now,
            by=_who(by),
            role=by.role,
            action="token.issued",
            subject=hash_token(token),
            detail=f"{role} token for {holder}",
        )
    session.add(
        TokenRow(
            token_hash=hash_token(token),
            role=role,
            actor_id=actor_id,
            learner_id=learner_id,
            label=label,
            created_at=format_time(now),
        )
    )
    return token


_TOKENS = TokenRow.__table__.c  # type: ignore[attr-defined]
#: One Core statement, built once: every authenticated request runs it, and an ORM ``get`` (an
#: identity map, an object per row) cost several times the primary-key lookup it wraps.
_BY_HASH = core_select(
    _TOKENS.role, _TOKENS.actor_id, _TOKENS.learner_id, _TOKENS.revoked_at
).where(_TOKENS.token_hash == bindparam("token_hash"))


def authenticate(db: Session | Connection, token: str) -> Principal:
    """The principal of ``token``, read from the database on every call.

    Nothing is cached, so a revoked token is refused from the next request on, in every worker.
    """
    row = (
        db.execute(_BY_HASH, {"token_hash": hash_token(token)}).first()
        if token.startswith(_PREFIX)
        else None
    )
    if row is None or row.revoked_at is not None:
        raise AuthenticationError("unknown or revoked token")
    role: Role = row.role
    return Principal(role=role, actor_id=row.actor_id, learner_id=row.learner_id)


def _who(principal: Principal) -> str:
    if principal.actor_id is not None:
        return principal.actor_id
    return f"learner:{principal.learner_id}"


def revoke_token(
    session: Session, token_hash: str, *, now: datetime, by: Principal | None = None
) -> None:
    row = session.get(TokenRow, token_hash)
    if row is None:
        raise NotFoundError("no such token")
    if by is not None:
        record_action(
            session, now=now, by=_who(by), role=by.role, action="token.revoked", subject=token_hash
        )
    row.revoked_at = format_time(now)
    session.add(row)
