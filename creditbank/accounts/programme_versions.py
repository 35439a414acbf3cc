"""The programmes in force on a day, from the ``programme_versions`` read model (issue 12).

Programmes are signed entries (``programme.registered``), so the catalogue is the log's, not a
file's. A programme's version in force on a day is the highest version whose ``effective_from`` is
on or before that day; before its first version takes effect a programme is listed with that first
version, so providers can propose mappings into a programme that opens next term. The bank, its
admission rules and ``creditbank verify``'s conversion re-check all ask this one function, so the
caps a conversion was admitted under are the caps it is re-checked under.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from creditbank.accounts.tables import ProgrammeRow
from creditbank.mapping import Programme
from creditbank.mapping.programme_json import programme_from_json

__all__ = ["ProgrammeVersions", "in_force"]

#: (number of versions, highest registration index): changes whenever a version is registered.
_Key = tuple[int, int]


def in_force(rows: list[ProgrammeRow], day: date) -> dict[str, ProgrammeRow]:
    """Per programme code, the row of its version in force on ``day`` (see the module doc)."""
    chosen: dict[str, ProgrammeRow] = {}
    text = day.isoformat()
    for row in sorted(rows, key=lambda r: (r.code, r.version)):
        current = chosen.get(row.code)
        if current is None or row.effective_from <= text:
            chosen[row.code] = row
    return chosen


class ProgrammeVersions:
    """Every registered programme version, parsed once and re-read only after a registration."""

    def __init__(self) -> None:
        self._key: _Key | None = None
        self._rows: list[ProgrammeRow] = []
        self._parsed: dict[tuple[str, int], Programme] = {}

    def key(self, session: Session) -> _Key:
        count, last = session.exec(
            select(func.count(), func.coalesce(func.max(ProgrammeRow.registered_index), -1))
        ).one()
        return (int(count), int(last))

    def on(self, session: Session, day: date) -> tuple[Programme, ...]:
        """The programmes in force on ``day``, ordered by code."""
        key = self.key(session)
        if key != self._key:
            rows = list(session.exec(select(ProgrammeRow).order_by(col(ProgrammeRow.code))))
            self._rows = [
                ProgrammeRow.model_validate(r.model_dump()) for r in rows
            ]  # detached copies: the cache outlives the session
            self._parsed = {
                (r.code, r.version): programme_from_json(json.loads(r.programme_json))
                for r in self._rows
            }
            self._key = key
        chosen = in_force(self._rows, day)
        return tuple(self._parsed[(row.code, row.version)] for row in chosen.values())
