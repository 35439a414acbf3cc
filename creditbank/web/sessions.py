"""Server-side sessions and one-time sign-in codes, kept as SHA-256 hashes of random secrets.

A session id is 32 random bytes shown only to the browser (in an HttpOnly cookie); the table holds
its hash, the principal it stands for, how it was opened and when it expires. "Sign out everywhere"
deletes every session of the same actor or learner. A sign-in code works once (the UPDATE that
marks it used is the check, so two concurrent redemptions cannot both win) and expires.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, delete, insert, select, update

from creditbank.accounts.tokens import Principal, Role
from creditbank.accounts.web_tables import SIGNIN_CODES, WEB_SESSIONS
from creditbank.ledger.entry import format_time

__all__ = ["SessionStore", "SignInCodes", "WebSession", "digest"]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class WebSession:
    principal: Principal
    credential: str
    expires_at: str


class SessionStore:
    """Sessions in the database (so several server processes share them)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], lifetime: timedelta) -> None:
        self.engine = engine
        self.clock = clock
        self.lifetime = lifetime

    def open(self, principal: Principal, credential: str) -> str:
        """Create a session; return its id (the only time it exists in plain text)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                insert(WEB_SESSIONS).values(
                    session_hash=digest(session_id),
                    role=principal.role,
                    actor_id=principal.actor_id,
                    learner_id=principal.learner_id,
                    credential=credential,
                    created_at=format_time(now),
                    expires_at=format_time(now + self.lifetime),
                )
            )
        return session_id

    def find(self, session_id: str) -> WebSession | None:
        """The live session with this id, or None (unknown or expired)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(WEB_SESSIONS).where(
                    and_(
                        WEB_SESSIONS.c.session_hash == digest(session_id),
                        WEB_SESSIONS.c.expires_at > format_time(self.clock()),
                    )
                )
            ).first()
        if row is None:
            return None
        role: Role = row.role
        return WebSession(
            Principal(role, row.actor_id, row.learner_id), row.credential, row.expires_at
        )

    def close(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(WEB_SESSIONS).where(WEB_SESSIONS.c.session_hash == digest(session_id))
            )

    def close_everywhere(self, principal: Principal) -> int:
        """End every session of this actor or learner (and expired ones); return how many."""
        column, value = (
            (WEB_SESSIONS.c.learner_id, principal.learner_id)
            if principal.learner_id is not None
            else (WEB_SESSIONS.c.actor_id, principal.actor_id)
        )
        with self.engine.begin() as conn:
            result = conn.execute(delete(WEB_SESSIONS).where(column == value))
            conn.execute(
                delete(WEB_SESSIONS).where(WEB_SESSIONS.c.expires_at <= format_time(self.clock()))
            )
        return int(result.rowcount)


class SignInCodes:
    """One-time codes that stand for a bearer token (by its hash) for a short while."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime], lifetime: timedelta) -> None:
        self.engine = engine
        self.clock = clock
        self.lifetime = lifetime

    def issue(self, token_hash: str) -> str:
        code = secrets.token_urlsafe(24)
        now = self.clock()
        with self.engine.begin() as conn:
            conn.execute(
                insert(SIGNIN_CODES).values(
                    code_hash=digest(code),
                    token_hash=token_hash,
                    created_at=format_time(now),
                    expires_at=format_time(now + self.lifetime),
                )
            )
        return code

    def redeem(self, code: str) -> str | None:
        """Use the code: the token hash it stands for, or None if unknown, used or expired."""
        now = format_time(self.clock())
        hashed = digest(code)
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(SIGNIN_CODES)
                .where(
                    and_(
                        SIGNIN_CODES.c.code_hash == hashed,
                        SIGNIN_CODES.c.used_at.is_(None),
                        SIGNIN_CODES.c.expires_at > now,
                    )
                )
                .values(used_at=now)
            )
            if claimed.rowcount != 1:
                return None
            token_hash: str = conn.execute(
                select(SIGNIN_CODES.c.token_hash).where(SIGNIN_CODES.c.code_hash == hashed)
            ).scalar_one()
        return token_hash
