"""A consistency problem in the catalogue, located by what it is about rather than by where.

The same checks run for a catalogue built in memory (from ledger entries) and for one loaded from CSV.
A check does not know about files, so it names the programme, mapping, course and field concerned;
the CSV loader turns that into file, line and column, and an in-memory build prints it as a sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from creditbank.errors import CatalogError

__all__ = ["Issue", "raise_issues"]


@dataclass(frozen=True)
class Issue:
    """One thing wrong, with enough identifiers to find the offending row."""

    message: str
    programme_code: str | None = None
    mapping_id: str | None = None
    version: int | None = None
    course_code: str | None = None
    source_code: str | None = None
    #: The CSV column the problem is in, when there is one.
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.mapping_id is not None:
            where.append(f"mapping {self.mapping_id} v{self.version}")
        elif self.programme_code is not None:
            where.append(f"programme {self.programme_code}")
        if self.source_code is not None:
            where.append(f"source {self.source_code}")
        if self.course_code is not None:
            where.append(f"course {self.course_code}")
        if self.field is not None:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


def raise_issues(issues: Iterable[Issue]) -> None:
    """Raise :class:`CatalogError` listing every issue, or return if there is none."""
    found = [str(issue) for issue in issues]
    if found:
        raise CatalogError(found)
