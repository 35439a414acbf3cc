"""Re-check every ``conversion.posted`` from the log alone (issue 12, item 2).

The ledger audit proves the bytes are the log's and the authority audit that each signer was
entitled to sign; neither proves a conversion *respected the rules*. This replays the log into
private, in-memory read models (the same projection functions the bank uses) and, just before each
``conversion.posted`` is applied, runs that kind's own admission rule against the state the log
held at that point: the mapping versions registered, approved and not retired by then, the
registrar's institution, the learner's holdings, what was already recognised toward the programme,
and the programme's caps, with the entry's ``integrated_at`` as the clock. A conversion appended behind the bank's back that breaks a cap (or
any other rule) fails here, named by its log index.

Programmes come from the log too: their ``programme.registered`` versions are replayed like every
other entry, and each conversion is judged under the version in force on its ``as_of`` day.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.kinds import KINDS, Admission, Body
from creditbank.accounts.names import DEFAULT_TIMEZONE
from creditbank.accounts.programme_versions import ProgrammeVersions
from creditbank.accounts.replay import project, replayed_entries, scratch_read_models
from creditbank.accounts.snapshot import SessionSnapshot
from creditbank.accounts.tables import ActorRow, MappingRow
from creditbank.errors import CreditbankError, TamperError
from creditbank.ledger.entry import Leaf, parse_time
from creditbank.ledger.store import LogStore
from creditbank.mapping import Catalog, Mapping

__all__ = ["ConversionCheck", "ConversionReport", "audit_conversions"]


@dataclass(frozen=True)
class ConversionReport:
    entries: int
    conversions: int


class _Catalogs:
    """The catalogue as the replayed read models hold it: the programme versions in force on the
    day asked and the approved, unretired mappings, rebuilt only when either changes."""

    def __init__(self) -> None:
        self.versions = ProgrammeVersions()
        self.key: tuple[int, int, int] | None = None
        self.mappings: tuple[Mapping, ...] = ()
        self.catalogs: dict[tuple[object, ...], Catalog] = {}
        #: The day :meth:`__call__` answers for when not told (the entry's own day).
        self.today = date.min

    def __call__(self, session: Session, day: date | None) -> Catalog:
        # approved and not retired: what counted when each conversion was posted
        unretired = col(MappingRow.retired_index).is_(None) & col(MappingRow.approved_index).is_not(
            None
        )
        count, last, total = session.exec(
            select(
                func.count(),
                func.coalesce(func.max(MappingRow.registered_index), -1),
                func.coalesce(func.sum(MappingRow.registered_index), 0),
            ).where(unretired)
        ).one()
        key = (int(count), int(last), int(total))
        if key != self.key:
            rows = session.exec(select(MappingRow).where(unretired))
            self.mappings = tuple(Mapping.from_json(json.loads(r.mapping_json)) for r in rows)
            self.key = key
            self.catalogs.clear()
        programmes = self.versions.on(session, day or self.today)
        catalog = self.catalogs.get(programmes)
        if catalog is None:
            catalog = Catalog(programmes=programmes, mappings=self.mappings)
            self.catalogs[programmes] = catalog
        return catalog


class ConversionCheck:
    """Re-checks each ``conversion.posted`` of a replay against the state just before it.

    It rides on a replay into scratch read models (``session``): :meth:`entries` passes the
    replayed entries through unchanged and checks each conversion on the way, so the read-model
    audit and the conversion re-check of ``creditbank verify`` share one replay of the log.
    """

    def __init__(self, session: Session, timezone: tzinfo = DEFAULT_TIMEZONE) -> None:
        self.session = session
        self.timezone = timezone
        self.catalogs = _Catalogs()
        self.snapshot = SessionSnapshot(session, self.catalogs)
        self.kind = KINDS["conversion.posted"]
        self.checked = 0

    def entries(
        self, replayed: Iterable[tuple[int, Leaf, Body]]
    ) -> Iterator[tuple[int, Leaf, Body]]:
        for index, leaf, body in replayed:
            if leaf.entry.type == self.kind.entry_type:
                now = _clock(leaf, body)
                self.catalogs.today = now.astimezone(self.timezone).date()
                _check(
                    self.session,
                    self.snapshot,
                    self.kind.admit,
                    leaf,
                    body,
                    index,
                    now,
                    self.timezone,
                )
                self.checked += 1
            yield index, leaf, body


def audit_conversions(
    store: LogStore,
    *,
    progress: Callable[[int], None] | None = None,
    timezone: tzinfo = DEFAULT_TIMEZONE,
    audited: int = 0,
) -> ConversionReport:
    """Raise :class:`TamperError` naming the first conversion the rules would have refused.

    Everything comes from the log: programmes (the version in force on each conversion's as-of
    day), mappings, actors and holdings, replayed in order. ``audited``: see
    :func:`~creditbank.accounts.replay.replayed_entries`."""
    size = store.size()
    with scratch_read_models() as session:
        check = ConversionCheck(session, timezone)
        project(
            session,
            check.entries(replayed_entries(store, size, audited=audited)),
            progress=progress,
        )
    return ConversionReport(entries=size, conversions=check.checked)


def _clock(leaf: Leaf, body: object) -> datetime:
    now = parse_time(leaf.integrated_at, "integrated_at")
    as_of = getattr(body, "as_of", None)
    if leaf.entry.actor == SYSTEM_ACTOR and isinstance(as_of, date):
        # a cascade's re-post keeps the original date: judge it on that day, not on today's
        now = datetime.combine(as_of, time(23, 59), UTC)
    return now


def _check(
    session: Session,
    snapshot: SessionSnapshot,
    admit: Callable[..., None],
    leaf: Leaf,
    body: object,
    index: int,
    now: datetime,
    timezone: tzinfo,
) -> None:
    session.flush()
    actor = session.get(ActorRow, leaf.entry.actor)
    conversion = getattr(body, "conversion_id", "?")
    if actor is None:
        raise TamperError(
            f"entry {index}: conversion {conversion} is signed by an unknown actor", index=index
        )
    try:
        admission = Admission(signed=leaf.signed, actor=actor, now=now, timezone=timezone)
        admit(snapshot, body, admission)
    except CreditbankError as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        raise TamperError(
            f"entry {index}: conversion {conversion} does not hold under the rules in force "
            f"({code}): {exc}",
            index=index,
        ) from exc
