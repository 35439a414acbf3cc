"""Writes: one method per entry kind a person posts, each signing its entry locally.

:data:`WRITE_METHODS` names the method of each postable kind of the registry
(:data:`creditbank.accounts.kinds.KINDS`); ``tests/accounts/test_kind_parts.py`` fails when a kind
has no method here, or no command in the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from creditbank.accounts.identity import Identity, commitment_of, new_learner_id, new_salt
from creditbank.client.base import ClientBase, Receipt, _credits
from creditbank.client.signer import new_nonce

__all__ = ["WRITE_METHODS", "EntryWrites"]

#: Entry type -> the :class:`EntryWrites` method that signs and posts it.
WRITE_METHODS: dict[str, str] = {
    "actor.registered": "register_actor",
    "actor.key_added": "add_key",
    "actor.key_revoked": "revoke_key",
    "actor.key_recovered": "recover_key",
    "actor.key_recovery_cancelled": "cancel_key_recovery",
    "learner.registered": "register_learner",
    "certificate.issued": "issue_certificate",
    "certificate.revoked": "revoke_certificate",
    "credit.earned": "record_credit",
    "programme.registered": "register_programme",
    "mapping.registered": "register_mapping",
    "mapping.approved": "approve_mapping",
    "mapping.retired": "retire_mapping",
    "conversion.posted": "post_conversion",
    "conversion.reversed": "reverse_conversion",
}


class EntryWrites(ClientBase):
    """Admins' actors and tokens, providers' certificates and mappings, registrars' learners,
    credits and conversions: each write builds its entry and signs it with this client's key."""

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

    # --- registrar: programmes ---------------------------------------------------------------

    def register_programme(
        self, programme: Mapping[str, Any], version: int, effective_from: date
    ) -> Receipt:
        """A registrar of the programme's institution registers it (version 1) or a new version
        (``programme`` as ``creditbank.mapping.programme_json.programme_to_json`` writes it)."""
        body = {
            "programme": dict(programme),
            "version": version,
            "effective_from": effective_from.isoformat(),
        }
        return self._write("programme.registered", body)

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

    def reverse_conversion(self, conversion_id: str, reason: str) -> Receipt:
        body = {"conversion_id": conversion_id, "reason": reason}
        return self._write("conversion.reversed", body)
