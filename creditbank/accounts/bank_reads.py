"""The credit bank's reading side: the catalogue, balances, plans, transcripts, tokens.

Everything here answers from the read models (and the log, for transcripts) in a session of its
own; nothing appends. :class:`~creditbank.accounts.bank.CreditBank` adds the write path on top,
so the two halves of the bank can be read (and changed) apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from creditbank.accounts.identity_vault import shred_identity
from creditbank.accounts.learner_holdings import learner_holdings, recognised_in
from creditbank.accounts.names import DEFAULT_TIMEZONE
from creditbank.accounts.programme_versions import ProgrammeVersions
from creditbank.accounts.tables import LearnerRow, MappingRow
from creditbank.accounts.tokens import Principal, authenticate, issue_token, revoke_token
from creditbank.accounts.transcript import build_transcript
from creditbank.accounts.views import (
    ExpiringItem,
    LearnerBalance,
    Progress,
    expiring_soon,
    learner_balance,
    progress_toward,
)
from creditbank.errors import InputError, NotFoundError
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.ledger.log import Log
from creditbank.mapping import Catalog, Holdings, Mapping, Plan, Programme, plan

__all__ = ["BankReads"]

#: Catalogues kept (one per set of programme versions in force and approved mappings): a few
#: as-of days in a row of conversions, not one per day ever asked.
_CATALOGS_KEPT = 8


class BankReads:
    """The accounts domain's queries over one database and one log."""

    def __init__(
        self,
        engine: Engine,
        log: Log,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        timezone: tzinfo = DEFAULT_TIMEZONE,
    ) -> None:
        self.engine = engine
        #: Calendar days (issue dates, as-of dates) are counted in this zone.
        self.timezone = timezone
        self.log = log
        self.clock = clock
        self._versions = ProgrammeVersions()
        self._mappings: tuple[tuple[int, int, int], tuple[Mapping, ...]] | None = None
        self._catalogs: dict[tuple[Any, ...], Catalog] = {}

    # --- the catalogue as the log has built it ------------------------------------------------

    def today(self) -> date:
        """The log clock's calendar day in the configured zone."""
        return self.clock().astimezone(self.timezone).date()

    @property
    def programmes(self) -> tuple[Programme, ...]:
        """The programmes in force today, as their ``programme.registered`` entries say."""
        with Session(self.engine) as session:
            return self._versions.on(session, self.today())

    def catalog(self, session: Session, day: date | None = None) -> Catalog:
        """The programme versions in force on ``day`` (default today) plus every approved,
        unretired mapping version (cached per log state).

        A version registered but not approved by its programme's institution is only proposed
        and counts nowhere (issue 12)."""
        programmes = self._versions.on(session, day or self.today())
        mappings = self._approved_mappings(session)
        key = (self._mappings[0] if self._mappings else None, programmes)
        found = self._catalogs.get(key)
        if found is None:
            found = Catalog(programmes=programmes, mappings=mappings)
            if len(self._catalogs) >= _CATALOGS_KEPT:
                self._catalogs.clear()
            self._catalogs[key] = found
        return found

    def _approved_mappings(self, session: Session) -> tuple[Mapping, ...]:
        unretired = col(MappingRow.retired_at).is_(None) & col(MappingRow.approved_at).is_not(None)
        # The key is an aggregate, so a cache hit reads one row, not every mapping's JSON.
        count, last, total = session.exec(
            select(
                func.count(),
                func.coalesce(func.max(MappingRow.registered_index), -1),
                func.coalesce(func.sum(MappingRow.registered_index), 0),
            ).where(unretired)
        ).one()
        key = (int(count), int(last), int(total))
        if self._mappings is None or self._mappings[0] != key:
            rows = session.exec(select(MappingRow).where(unretired))
            parsed = tuple(Mapping.from_json(json.loads(r.mapping_json)) for r in rows)
            self._mappings = (key, parsed)
        return self._mappings[1]

    # --- reading ------------------------------------------------------------------------------

    def _programme_index(self, session: Session) -> dict[str, Programme]:
        return {p.code: p for p in self.catalog(session).programmes}

    def holdings(
        self, session: Session, learner_id: str, *, exclude_programme: str | None = None
    ) -> Holdings:
        return learner_holdings(
            session, learner_id, self._programme_index(session), exclude_programme=exclude_programme
        )

    def balance(self, learner_id: str, as_of: date | None = None) -> LearnerBalance:
        with Session(self.engine) as session:
            return learner_balance(session, learner_id, as_of, tz=self.timezone)

    def progress(self, learner_id: str, programme_code: str, as_of: date | None = None) -> Progress:
        day = as_of or self.clock().date()
        with Session(self.engine) as session:
            _require_learner(session, learner_id)
            return progress_toward(
                session,
                self.catalog(session, day),
                self.holdings(session, learner_id, exclude_programme=programme_code),
                recognised_in(session, learner_id, programme_code),
                learner_id,
                programme_code,
                day,
            )

    def plan_for(
        self,
        learner_id: str,
        programme_code: str,
        as_of: date | None = None,
        *,
        what_if: Holdings | None = None,
    ) -> Plan:
        """The planner's best allocation for a learner now, optionally with what-if holdings."""
        day = as_of or self.clock().date()
        with Session(self.engine) as session:
            _require_learner(session, learner_id)
            held = self.holdings(session, learner_id, exclude_programme=programme_code)
            if what_if is not None:
                held = Holdings(
                    certificates=held.certificates + what_if.certificates,
                    credits=held.credits + what_if.credits,
                )
            return plan(
                self.catalog(session, day),
                held,
                programme_code,
                day,
                already_recognised=recognised_in(session, learner_id, programme_code),
            )

    def expiring(self, learner_id: str, days: int, today: date | None = None) -> list[ExpiringItem]:
        if not 0 < days <= 3660:
            raise InputError("days must be between 1 and 3660")
        day = today or self.clock().astimezone(self.timezone).date()
        with Session(self.engine) as session:
            _require_learner(session, learner_id)
            return expiring_soon(
                session,
                self.catalog(session),
                self.holdings(session, learner_id),
                learner_id,
                day,
                days,
            )

    def transcript(self, learner_id: str) -> dict[str, Any]:
        witnessed = CosignedStore(self.engine).latest()
        with Session(self.engine) as session:
            return build_transcript(session, self.log, learner_id, witnessed=witnessed)

    # --- credentials and personal data --------------------------------------------------------

    def issue_token(
        self,
        *,
        actor_id: str | None = None,
        learner_id: str | None = None,
        label: str = "",
        by: Principal | None = None,
    ) -> str:
        with Session(self.engine) as session:
            token = issue_token(
                session,
                now=self.clock(),
                actor_id=actor_id,
                learner_id=learner_id,
                label=label,
                by=by,
            )
            session.commit()
            return token

    def authenticate(self, token: str) -> Principal:
        with Session(self.engine) as session:
            return authenticate(session, token)

    def revoke_token(self, token_hash: str, *, by: Principal | None = None) -> None:
        with Session(self.engine) as session:
            revoke_token(session, token_hash, now=self.clock(), by=by)
            session.commit()

    def erase_learner(self, learner_id: str) -> None:
        """Delete a learner's personal data and salt; their entries and balance remain."""
        shred_identity(self.engine, learner_id)


def _require_learner(session: Session, learner_id: str) -> None:
    if session.get(LearnerRow, learner_id) is None:
        raise NotFoundError(f"learner {learner_id!r} is not registered")
