"""The base of the API client: one caller's HTTP connection, retries, errors, signed posts.

:class:`ClientBase` sends requests (re-sending on a network failure, which is safe: a write
re-sends the *same* signed bytes, and the server answers a replay with the original receipt) and
raises error answers (RFC 9457 problems) as the matching class of :mod:`creditbank.errors`.
:meth:`ClientBase._write` signs an entry and posts it to the route its kind names in the
registry. :class:`Receipt` is what an accepted entry answers.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.identity import Identity
from creditbank.accounts.kinds import kind_of
from creditbank.client.problems import error_from_response
from creditbank.client.signer import EntrySigner
from creditbank.errors import InputError, StorageError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.entry import SignedEntry
from creditbank.mapping.values import format_decimal

__all__ = ["ClientBase", "Receipt"]


@dataclass(frozen=True)
class Receipt:
    """Where an accepted entry landed, and the signed checkpoint that covers it."""

    index: int
    entry_type: str
    leaf_hash: bytes
    tree_size: int
    checkpoint: str
    consequences: tuple[int, ...]
    replayed: bool

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Receipt:
        return cls(
            index=int(obj["index"]),
            entry_type=str(obj["entry_type"]),
            leaf_hash=base64.b64decode(obj["leaf_hash"]),
            tree_size=int(obj["tree_size"]),
            checkpoint=str(obj["checkpoint"]),
            consequences=tuple(int(i) for i in obj.get("consequences", ())),
            replayed=bool(obj.get("replayed", False)),
        )


def _credits(value: Decimal | str | int) -> str:
    if isinstance(value, float | bool):
        raise InputError("credits are exact decimals: pass a str, int or Decimal, never a float")
    return format_decimal(Decimal(str(value)))


def _params(**values: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        out[key] = value.isoformat() if isinstance(value, date) else str(value)
    return out


def _identity_json(identity: Mapping[str, str] | Identity | None) -> dict[str, str] | None:
    if identity is None:
        return None
    if isinstance(identity, Identity):
        return {"name": identity.name, "id_number": identity.id_number, "salt": identity.salt}
    return {key: str(identity[key]) for key in ("name", "id_number", "salt")}


class ClientBase:
    """One caller's connection: a token (for anything but public reads) and a signer (for writes).

    The parts every area of the API shares: sending with retries and problem answers raised as
    errors, posting signed entries one at a time or as a batch. The areas are mixins over it,
    put together in :class:`~creditbank.client.http.CreditbankClient`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        signer: EntrySigner | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json, application/problem+json, text/plain"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.retries = retries
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    @classmethod
    def signing(
        cls,
        base_url: str,
        *,
        token: str,
        private_key: Ed25519PrivateKey,
        actor_id: str | None = None,
        **options: Any,
    ) -> Self:
        """A client that signs as ``actor_id`` (default: the actor the token belongs to)."""
        if actor_id is None:
            with cls(base_url, token=token, **options) as probe:
                actor_id = probe.whoami().get("actor_id")
            if not actor_id:
                raise InputError("this token is not bound to an actor; name the actor")
        signer = EntrySigner(str(actor_id), private_key)
        return cls(base_url, token=token, signer=signer, **options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- transport ----------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt + 1 < attempts:
                    continue
                raise StorageError(f"cannot reach {self.base_url}: {exc}") from exc
            if response.is_success:
                return response
            raise error_from_response(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_json(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params=_params(**params)).json()

    def _get_text(self, path: str) -> str:
        return self._send("GET", path).text

    def _signer(self) -> EntrySigner:
        if self.signer is None:
            raise InputError("this client has no signing key; writes need the actor's key")
        return self.signer

    def post_signed(
        self, path: str, signed: SignedEntry, *, extra: Mapping[str, Any] | None = None
    ) -> Receipt:
        """Post a signed entry (plus ``extra`` members, e.g. an identity). Retries re-send the
        same bytes, and the entry's nonce goes along as the ``Idempotency-Key``."""
        body = canonical_bytes({**signed.to_json(), **(extra or {})})
        response = self._send(
            "POST",
            path,
            content=body,
            headers={"Content-Type": "application/json", "Idempotency-Key": signed.entry.nonce},
        )
        return Receipt.from_json(response.json())

    def submit_batch(
        self,
        items: Sequence[SignedEntry | tuple[SignedEntry, Mapping[str, str] | Identity | None]],
    ) -> list[Receipt]:
        """Post signed entries through ``POST /v1/batch``: all are appended, or none is.

        Each item is a signed entry, or a pair of a signed entry and the identity (a mapping with
        ``name``, ``id_number``, ``salt``, or an :class:`Identity`) its ``learner.registered``
        carries. Answers one receipt per item, in order; entries already in the log answer their
        original receipts, so re-sending a batch (as the retries here do) never appends twice.
        A refused item raises its error (a class of :mod:`creditbank.errors`) with ``item`` set to
        its 0-based position; nothing of the batch was appended.
        """
        if not items:
            raise InputError("a batch needs at least one entry")
        entries: list[dict[str, Any]] = []
        for item in items:
            signed, identity = (item, None) if isinstance(item, SignedEntry) else item
            entries.append({"entry": signed.to_json(), "identity": _identity_json(identity)})
        response = self._send(
            "POST",
            "/v1/batch",
            content=canonical_bytes({"entries": entries}),
            headers={"Content-Type": "application/json"},
        )
        return [Receipt.from_json(r) for r in response.json()["receipts"]]

    def _write(
        self,
        entry_type: str,
        body: Mapping[str, Any],
        *,
        nonce: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """Sign and post an entry to the write route its kind names (see the kinds registry)."""
        kind = kind_of(entry_type)
        if kind.route is None:
            raise InputError(f"{entry_type} entries are appended by the log itself, not posted")
        path = kind.route.format(
            **{name: quote(str(body[name]), safe="") for name in kind.path_fields}
        )
        signed = self._signer().sign(entry_type, {"v": 1, **body}, nonce=nonce)
        return self.post_signed(path, signed, extra=extra)

    def whoami(self) -> dict[str, Any]:
        """The role and actor (or learner) this client's token belongs to."""
        result: dict[str, Any] = self._get_json("/v1/whoami")
        return result
