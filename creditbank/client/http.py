"""A typed client of the creditbank HTTP API, over httpx.

:class:`CreditbankClient` holds the server URL, a bearer token and (for writes) an
:class:`~creditbank.client.signer.EntrySigner`. It is made of one part per area of the API:
:class:`~creditbank.client.base.ClientBase` (sending, retries, errors, signed posts),
:class:`~creditbank.client.log_reads.PublicReads` (the public log, with
:meth:`~creditbank.client.log_reads.PublicReads.verify_entry`, and the catalogue),
:class:`~creditbank.client.writes.EntryWrites` (one method per entry kind a person posts), and
here the reads of a learner's account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from creditbank.client.base import Receipt
from creditbank.client.log_reads import PublicReads
from creditbank.client.writes import EntryWrites

__all__ = ["CreditbankClient", "Receipt"]


class CreditbankClient(PublicReads, EntryWrites):
    """The API for one caller: a token (for anything but public reads) and a signer (for writes)."""

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

    # --- composed: a read, then a write ----------------------------------------------------

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
