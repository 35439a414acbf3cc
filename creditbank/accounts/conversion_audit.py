"""Re-check every ``conversion.posted`` from the log alone (issue 12, item 2).

The ledger audit proves the bytes are the log's and the authority audit that each signer was
entitled to sign; neither proves a conversion *respected the rules*. This replays the log into
private, in-memory read models (the same projection functions the bank uses) and, just before each
``conversion.posted`` is applied, runs that kind's own admission rule against the state the log
held at that point: the mapping versions registered, approved and not retired by then, the
registrar's institution, the learner's holdings, what was already recognised toward the programme,
and the programme's caps, with the entry's ``integrated_at`` as the clock. A conversion appended behind the bank's back that breaks a cap (or
any other rule) fails here, named by its log index.

What is *not* yet from the log: programmes (titles, courses, caps) still come from the shipped
``programmes.csv`` the caller passes in, until programmes are entries of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, col, create_engine, select

from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.kinds import KINDS, Admission
from creditbank.accounts.projection import apply_entry
from creditbank.accounts.replay import replayed_entries
from creditbank.accounts.snapshot import SessionSnapshot
from creditbank.accounts.tables import PROJECTION_TABLES, ActorRow, MappingRow
from creditbank.errors import CreditbankError, TamperError
from creditbank.ledger.entry import Leaf, parse_time
from creditbank.ledger.store import LogStore
from creditbank.mapping import Catalog, Mapping, Programme

__all__ = ["ConversionReport", "audit_conversions"]


@dataclass(frozen=True)
class ConversionReport:
    entries: int
    conversions: int


class _Catalogs:
    """The catalogue as the replayed read models hold it, rebuilt only when mappings change."""

    def __init__(self, programmes: Sequence[Programme]) -> None:
        self.programmes = tuple(programmes)
        self.key: tuple[int, int, int] | None = None
        self.catalog = Catalog(programmes=self.programmes, mappings=())

    def __call__(self, session: Session) -> Catalog:
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
            mappings = tuple(Mapping.from_json(json.loads(r.mapping_json)) for r in rows)
            self.catalog = Catalog(programmes=self.programmes, mappings=mappings)
            self.key = key
        return self.catalog


def audit_conversions(
    store: LogStore,
    programmes: Sequence[Programme],
    *,
    progress: Callable[[int], None] | None = None,
) -> ConversionReport:
    """Raise :class:`TamperError` naming the first conversion the rules would have refused."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    tables = [t.__table__ for t in PROJECTION_TABLES]  # type: ignore[attr-defined]
    SQLModel.metadata.create_all(engine, tables=tables)
    catalogs = _Catalogs(programmes)
    index_of = {p.code: p for p in programmes}
    size = store.size()
    checked = 0
    kind = KINDS["conversion.posted"]
    with Session(engine) as session:
        snapshot = SessionSnapshot(session, catalogs, index_of)
        for index, leaf, body in replayed_entries(store, size):
            if leaf.entry.type == kind.entry_type:
                _check(session, snapshot, kind.admit, leaf, body, index)
                checked += 1
            apply_entry(session, index, leaf, body)
            if index % 1000 == 0:
                session.flush()
                if progress is not None:
                    progress(index + 1)
    engine.dispose()
    return ConversionReport(entries=size, conversions=checked)


def _check(
    session: Session,
    snapshot: SessionSnapshot,
    admit: Callable[..., None],
    leaf: Leaf,
    body: object,
    index: int,
) -> None:
    session.flush()
    actor = session.get(ActorRow, leaf.entry.actor)
    conversion = getattr(body, "conversion_id", "?")
    if actor is None:
        raise TamperError(
            f"entry {index}: conversion {conversion} is signed by an unknown actor", index=index
        )
    now = parse_time(leaf.integrated_at, "integrated_at")
    as_of = getattr(body, "as_of", None)
    if leaf.entry.actor == SYSTEM_ACTOR and isinstance(as_of, date):
        # a cascade's re-post keeps the original date: judge it on that day, not on today's
        now = datetime.combine(as_of, time(23, 59), UTC)
    try:
        admit(snapshot, body, Admission(signed=leaf.signed, actor=actor, now=now))
    except CreditbankError as exc:
        code = getattr(exc, "code", None) or type(exc).__name__
        raise TamperError(
            f"entry {index}: conversion {conversion} does not hold under the rules in force "
            f"({code}): {exc}",
            index=index,
        ) from exc
