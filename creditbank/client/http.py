"""A typed client of the creditbank HTTP API, over httpx.

:class:`CreditbankClient` holds the server URL, a bearer token and (for writes) an
:class:`~creditbank.client.signer.EntrySigner`. Each write builds the entry, signs it locally and
posts it; on a network failure it re-sends the *same* signed bytes, which the server answers with
the original receipt, so a retried write never appends twice. Error answers (RFC 9457 problems)
are raised as the matching class of :mod:`creditbank.errors`.

Reads of the public log come with :meth:`CreditbankClient.verify_entry`, which checks an entry the
way any outside verifier would: recompute the leaf hash from the leaf object (RFC 8785), fetch the
inclusion proof and the signed checkpoint, and verify both against a log key the caller trusts.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.accounts.kinds import kind_of
from creditbank.client.problems import error_from_response
from creditbank.client.signer import EntrySigner, new_nonce
from creditbank.errors import EntryFormatError, InputError, StorageError
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier
from creditbank.ledger.entry import Leaf, SignedEntry
from creditbank.ledger.merkle import leaf_hash, verify_inclusion
from creditbank.mapping.values import format_decimal

__all__ = ["CreditbankClient", "Receipt"]


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


class CreditbankClient:
    """The API for one caller: a token (for anything but public reads) and a signer (for writes)."""

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
    ) -> CreditbankClient:
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

    # --- the public log -----------------------------------------------------------------------

    def checkpoint(self) -> str:
        return self._get_text("/v1/log/checkpoint")

    def checkpoint_at(self, tree_size: int) -> str:
        return self._get_text(f"/v1/log/checkpoints/{tree_size}")

    def log_key(self) -> str:
        return self._get_text("/v1/log/key").strip()

    def entry(self, index: int) -> dict[str, Any]:
        result: dict[str, Any] = self._get_json(f"/v1/log/entries/{index}")
        return result

    def entries(self, start: int = 0, limit: int | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._get_json("/v1/log/entries", start=start, limit=limit)
        return result

    def iter_entries(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """Every entry from ``start`` to the latest checkpoint, page by page."""
        position: int | None = start
        while position is not None:
            page = self.entries(position)
            yield from page["entries"]
            position = page["next"]

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> list[bytes]:
        proof = self._get_json("/v1/log/proof/inclusion", index=index, tree_size=tree_size)
        return [base64.b64decode(h) for h in proof["hashes"]]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        proof = self._get_json("/v1/log/proof/consistency", first=first, second=second)
        return [base64.b64decode(h) for h in proof["hashes"]]

    def verify_entry(self, index: int, trusted: NoteVerifier) -> Leaf:
        """Check entry ``index`` as an outside verifier would; return its leaf or raise."""
        checkpoint = Checkpoint.open(self.checkpoint(), [trusted])
        item = self.entry(index)
        leaf = Leaf.from_bytes(canonical_bytes(item["leaf"]))
        hashed = leaf_hash(leaf.data)
        if base64.b64decode(item["leaf_hash"]) != hashed:
            raise EntryFormatError(f"entry {index}: the server's leaf_hash is not the leaf's hash")
        proof = self.inclusion_proof(index, checkpoint.size)
        verify_inclusion(hashed, index, checkpoint.size, proof, checkpoint.root_hash)
        leaf.signed.verify()
        return leaf

    # --- the catalogue ------------------------------------------------------------------------

    def catalogue(self, kind: str, **filters: Any) -> dict[str, Any]:
        """A page of ``qualifications``, ``programmes``, ``courses``, ``mappings`` or
        ``proposed-mappings``."""
        result: dict[str, Any] = self._get_json(f"/v1/catalogue/{kind}", **filters)
        return result

    def whoami(self) -> dict[str, Any]:
        """The role and actor (or learner) this client's token belongs to."""
        result: dict[str, Any] = self._get_json("/v1/whoami")
        return result

    # --- admin --------------------------------------------------------------------------------

    def register_actor(
        self, actor_id: str, role: str, name: str, public_key: str, institution: str | None = None
    ) -> Receipt:
        body = {"actor_id": actor_id, "role": role, "name": name, "public_key": public_key}
        if institution is not None:  # a registrar's institution
            body["institution"] = institution
        return self._write("actor.registered", body)

    def add_key(self, actor_id: str, public_key: str) -> Receipt:
        body = {"actor_id": actor_id, "public_key": public_key}
        return self._write("actor.key_added", body)

    def revoke_key(self, actor_id: str, key_id: str) -> Receipt:
        body = {"actor_id": actor_id, "key_id": key_id}
        return self._write("actor.key_revoked", body)

    def recover_key(
        self, actor_id: str, public_key: str, reason: str, delay_days: int = 7
    ) -> Receipt:
        """An admin gives a key to an actor that lost all of its own (usable after the delay)."""
        body = {
            "actor_id": actor_id,
            "public_key": public_key,
            "reason": reason,
            "delay_days": delay_days,
        }
        return self._write("actor.key_recovered", body)

    def cancel_key_recovery(self, actor_id: str, key_id: str) -> Receipt:
        """The actor itself vetoes a pending recovery of its keys."""
        return self._write("actor.key_recovery_cancelled", {"actor_id": actor_id, "key_id": key_id})

    def issue_token(
        self, *, actor_id: str | None = None, learner_id: str | None = None, label: str = ""
    ) -> dict[str, Any]:
        payload = {"actor_id": actor_id, "learner_id": learner_id, "label": label}
        result: dict[str, Any] = self._send("POST", "/v1/tokens", json=payload).json()
        return result

    def revoke_token(self, token_id: str) -> None:
        self._send("DELETE", f"/v1/tokens/{token_id}")

    # --- provider -----------------------------------------------------------------------------

    def register_mapping(self, mapping: Mapping[str, Any]) -> Receipt:
        return self._write("mapping.registered", {"mapping": dict(mapping)})

    def retire_mapping(self, mapping_id: str, reason: str) -> Receipt:
        body = {"mapping_id": mapping_id, "reason": reason}
        return self._write("mapping.retired", body)

    def approve_mapping(self, mapping_id: str, version: int) -> Receipt:
        """A registrar of the programme's institution approves one proposed version."""
        return self._write("mapping.approved", {"mapping_id": mapping_id, "version": version})

    def issue_certificate(
        self,
        *,
        learner_id: str,
        qualification_code: str,
        level: int,
        issued_on: date,
        certificate_id: str | None = None,
    ) -> Receipt:
        body = {
            "certificate_id": certificate_id or "C-" + new_nonce()[2:],
            "learner_id": learner_id,
            "qualification_code": qualification_code,
            "level": level,
            "issued_on": issued_on.isoformat(),
        }
        return self._write("certificate.issued", body)

    def revoke_certificate(self, certificate_id: str, reason: str) -> Receipt:
        body = {"certificate_id": certificate_id, "reason": reason}
        return self._write("certificate.revoked", body)

    # --- registrar ----------------------------------------------------------------------------

    def register_learner(
        self, *, name: str, id_number: str, learner_id: str | None = None
    ) -> tuple[str, Receipt]:
        """Register a learner: a random id and a salted commitment go on the log; the name and
        ID number travel beside the entry and are kept off it."""
        identity = Identity(name=name, id_number=id_number, salt=new_salt())
        learner_id = learner_id or new_learner_id()
        body = {"learner_id": learner_id, "commitment": commitment_of(identity)}
        extra = {
            "identity": {"name": name, "id_number": id_number, "salt": identity.salt},
        }
        receipt = self._write("learner.registered", body, extra=extra)
        return learner_id, receipt

    def record_credit(
        self,
        *,
        learner_id: str,
        institution: str,
        course_code: str,
        credits: Decimal | str | int,
        grade: int,
        earned_on: date,
        credit_id: str | None = None,
    ) -> Receipt:
        body = {
            "credit_id": credit_id or "CR-" + new_nonce()[2:],
            "learner_id": learner_id,
            "institution": institution,
            "course_code": course_code,
            "credits": _credits(credits),
            "grade": grade,
            "earned_on": earned_on.isoformat(),
        }
        return self._write("credit.earned", body)

    def post_conversion(
        self,
        *,
        learner_id: str,
        programme_code: str,
        as_of: date,
        recognitions: Sequence[Mapping[str, Any]],
        conversion_id: str | None = None,
    ) -> Receipt:
        """Post recognitions, each ``{course_code, credits, mapping_id, sources}``."""
        body = {
            "conversion_id": conversion_id or "CV-" + new_nonce()[2:],
            "learner_id": learner_id,
            "programme_code": programme_code,
            "as_of": as_of.isoformat(),
            "recognitions": [
                {
                    "course_code": str(r["course_code"]),
                    "credits": _credits(r["credits"]),
                    "mapping_id": str(r["mapping_id"]),
                    "sources": [str(s) for s in r["sources"]],
                }
                for r in recognitions
            ],
        }
        return self._write("conversion.posted", body)

    def convert(
        self,
        learner_id: str,
        programme_code: str,
        *,
        as_of: date | None = None,
        conversion_id: str | None = None,
    ) -> tuple[dict[str, Any], Receipt | None]:
        """Ask the planner, then post exactly what it proposes (nothing if it proposes nothing)."""
        proposed = self.plan(learner_id, programme_code, as_of=as_of)
        recognitions = [
            {
                "course_code": r["course_code"],
                "credits": r["credits"],
                "mapping_id": r["mapping_id"],
                "sources": r["source_holding_ids"],
            }
            for r in proposed["recognitions"]
            if not r.get("what_if")
        ]
        if not recognitions:
            return proposed, None
        receipt = self.post_conversion(
            learner_id=learner_id,
            programme_code=programme_code,
            as_of=date.fromisoformat(proposed["as_of"]),
            recognitions=recognitions,
            conversion_id=conversion_id,
        )
        return proposed, receipt

    def reverse_conversion(self, conversion_id: str, reason: str) -> Receipt:
        body = {"conversion_id": conversion_id, "reason": reason}
        return self._write("conversion.reversed", body)

    # --- a learner's account ------------------------------------------------------------------

    def balance(self, learner_id: str, *, as_of: date | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._get_json(f"/v1/learners/{learner_id}/balance", as_of=as_of)
        return result

    def progress(
        self, learner_id: str, programme_code: str, *, as_of: date | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._get_json(
            f"/v1/learners/{learner_id}/progress", programme_code=programme_code, as_of=as_of
        )
        return result

    def expiring(self, learner_id: str, *, days: int = 90) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get_json(
            f"/v1/learners/{learner_id}/expiring", days=days
        )
        return result

    def plan(
        self,
        learner_id: str,
        programme_code: str,
        *,
        as_of: date | None = None,
        what_if: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        path = f"/v1/learners/{learner_id}/plan"
        if what_if is None:
            result: dict[str, Any] = self._get_json(
                path, programme_code=programme_code, as_of=as_of
            )
            return result
        payload = {
            "programme_code": programme_code,
            "as_of": as_of.isoformat() if as_of else None,
            "what_if": dict(what_if),
        }
        answer: dict[str, Any] = self._send("POST", path, json=payload).json()
        return answer

    def transcript(self, learner_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._get_json(f"/v1/learners/{learner_id}/transcript")
        return result
