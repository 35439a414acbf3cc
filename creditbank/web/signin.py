"""How a person proves who they are: behind :class:`SignInMethod`, so OIDC can replace tokens.

The pages never look at *how* someone signed in: they get a :class:`Principal` (role plus actor or
learner) and a ``credential`` string the method can later re-check. :class:`TokenSignIn` takes the
form field ``token`` (an API bearer token) and re-checks on every request that the token has not
been revoked; an OIDC method would map the provider's verified ``sub`` claim to an actor or learner
and re-check nothing but the session's expiry (see ``docs/web.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from creditbank.accounts.bank import CreditBank
from creditbank.accounts.tables import TokenRow
from creditbank.accounts.tokens import Principal, Role, hash_token
from creditbank.errors import AuthenticationError

__all__ = ["SignInMethod", "SignedIn", "TokenSignIn"]


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    #: What the session remembers of how it was opened, re-checked by :meth:`still_valid`.
    credential: str


class SignInMethod(Protocol):
    """A way to sign in. ``fields`` are the posted form fields of ``/sign-in``."""

    def sign_in(self, fields: Mapping[str, str]) -> SignedIn:
        """Who this is; raises :class:`AuthenticationError` when the proof does not hold."""
        ...

    def still_valid(self, credential: str) -> Principal | None:
        """The principal if what opened a session still holds (checked on every request)."""
        ...


class TokenSignIn:
    """Sign in with an API bearer token (field ``token``); the token itself is never stored."""

    def __init__(self, bank: CreditBank) -> None:
        self.bank = bank

    def sign_in(self, fields: Mapping[str, str]) -> SignedIn:
        token = fields.get("token", "").strip()
        if not token:
            raise AuthenticationError("no token given")
        principal = self.bank.authenticate(token)
        return SignedIn(principal, "token:" + hash_token(token))

    def by_token_hash(self, token_hash: str) -> SignedIn:
        """Sign in with a token known by its hash (a one-time sign-in link)."""
        principal = self.still_valid("token:" + token_hash)
        if principal is None:
            raise AuthenticationError("unknown or revoked token")
        return SignedIn(principal, "token:" + token_hash)

    def still_valid(self, credential: str) -> Principal | None:
        kind, _, token_hash = credential.partition(":")
        if kind != "token":
            return None
        with Session(self.bank.engine) as session:
            row = session.get(TokenRow, token_hash)
        if row is None or row.revoked_at is not None:
            return None
        role: Role = row.role  # type: ignore[assignment]
        return Principal(role=role, actor_id=row.actor_id, learner_id=row.learner_id)
