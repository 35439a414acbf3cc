"""What an entry kind is: one record naming every part the write path needs.

A kind is declared once, in its own module under :mod:`creditbank.accounts.kinds`, and listed in
:data:`creditbank.accounts.kinds.registry.KINDS`. The bank, the API's write routes, the batch
route, the client and the authority audit all read it from there; a test fails when a kind lacks
a part or a route disagrees with it.

Admission is a pure function: it receives a :class:`Snapshot` (read-only values of current state,
loaded by the bank) and the typed body, and either returns or raises a domain error. It opens no
session and writes nothing, so it can be tested with a dictionary-backed snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Protocol, TypeVar

from sqlmodel import Session, SQLModel

from creditbank.accounts.identity import Identity
from creditbank.accounts.kinds.fields import Body
from creditbank.accounts.names import DEFAULT_TIMEZONE
from creditbank.accounts.tables import ActorRow
from creditbank.ledger.entry import Leaf, SignedEntry
from creditbank.mapping import Catalog, Holdings, PostedRecognition

__all__ = [
    "Admission",
    "Kind",
    "Projector",
    "Snapshot",
    "RowKey",
    "no_cascade",
    "no_rows",
    "no_learner",
]

_Row = TypeVar("_Row", bound=SQLModel)


class Snapshot(Protocol):
    """Read-only state an admission rule may consult (rows are values: do not modify them)."""

    @property
    def catalog(self) -> Catalog:
        """Programmes in force today plus every approved, unretired mapping."""
        ...

    def catalog_on(self, day: date) -> Catalog:
        """The catalogue with the programme versions in force on ``day`` (a conversion's as-of
        day: the caps it is judged under, live and in ``creditbank verify``)."""
        ...

    def get(self, table: type[_Row], key: Any) -> _Row | None:
        """The row of ``table`` with primary key ``key``, or ``None``."""
        ...

    def where(self, table: type[_Row], **equals: Any) -> Sequence[_Row]:
        """Rows of ``table`` whose columns equal the given values."""
        ...

    def holdings(self, learner_id: str, *, exclude_programme: str | None = None) -> Holdings:
        """A learner's holdings as the planner sees them."""
        ...

    def recognised_in(self, learner_id: str, programme_code: str) -> list[PostedRecognition]:
        """Courses already recognised toward a programme for a learner."""
        ...


@dataclass(frozen=True)
class Admission:
    """Who signed the entry and when it is being appended (the log's clock)."""

    signed: SignedEntry
    actor: ActorRow
    now: datetime
    identity: Identity | None = None
    #: The zone whose calendar days the rules count in (the bank's configured one).
    timezone: tzinfo = DEFAULT_TIMEZONE

    @property
    def today(self) -> date:
        """The log clock's day in the configured zone: dates in bodies are local days."""
        return self.now.astimezone(self.timezone).date()


#: Apply an appended entry to the read models (inside the append transaction).
Projector = Callable[[Session, int, Leaf, Any], None]


def no_cascade(_snapshot: Snapshot, _body: Any) -> set[str]:
    """Most kinds withdraw nothing."""
    return set()


#: A row an admission rule will look up: its table and primary key.
RowKey = tuple[type[SQLModel], Any]


def no_rows(_body: Any) -> Iterable[RowKey]:
    """Kinds that declare nothing are looked up row by row."""
    return ()


def no_learner(_snapshot: Snapshot, _body: Any) -> str | None:
    """Most kinds are about no learner."""
    return None


@dataclass(frozen=True)
class Kind:
    """Everything the write path knows about one entry type."""

    #: The entry ``type``, e.g. ``certificate.issued``.
    entry_type: str
    #: The body schema (a :class:`~creditbank.accounts.kinds.fields.Body` subclass).
    body: type[Body]
    #: Roles whose actors may sign it (checked against the signing key's actor).
    signers: tuple[str, ...]
    #: The token role of its write route (``None``: only the log itself appends it).
    poster: str | None
    #: Path of its single write route (``None`` when ``poster`` is), with ``{field}`` parts
    #: that must equal the body's fields of the same name.
    route: str | None
    #: Admission rules: a pure function of a snapshot, the body and the signer; raise to refuse.
    admit: Callable[[Snapshot, Any, Admission], None]
    #: Projection into the read models.
    project: Projector
    #: Which learner the entry is about (``None`` if none), for a learner's chain of entries.
    #: Given the snapshot *before* the entry is applied, because some bodies name the learner
    #: only through another record (a revoked certificate, a reversed conversion).
    learner_of: Callable[[Snapshot, Any], str | None] = no_learner
    #: Holding ids this entry withdraws (after projection): conversions using them are reversed.
    cascade: Callable[[Snapshot, Any], set[str]] = no_cascade
    #: Whether the entry travels with a learner's identity (kept off the log).
    carries_identity: bool = False
    #: The rows ``admit`` reads by primary key, so a group's are loaded in one query per table
    #: (a performance hint: the answers are the same without it).
    rows: Callable[[Any], Iterable[RowKey]] = no_rows
    #: any actor whose role may sign it may also post it with its own token (its own keys).
    self_service: bool = False

    @property
    def path_fields(self) -> tuple[str, ...]:
        """Body fields named in the route's path."""
        if self.route is None:
            return ()
        return tuple(part[1:-1] for part in self.route.split("/") if part.startswith("{"))
