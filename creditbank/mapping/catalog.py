"""The catalogue: the programmes and every version of every mapping, checked as a whole.

A :class:`Catalog` is immutable. It is built either from the CSV files
(:func:`~creditbank.mapping.map_csv.load_catalog`) or in memory, as the accounts layer does when
it replays ``mapping.registered`` / ``mapping.retired`` ledger entries. Both paths run the same
consistency checks, so an inconsistent catalogue cannot exist. ``with_mapping`` and
``without_mapping`` return new catalogues (each re-checks the whole; replaying a long log is
cheaper by collecting the mappings and building one catalogue).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from functools import cached_property

from creditbank.errors import NotFoundError
from creditbank.mapping.consistency import catalog_issues
from creditbank.mapping.courses import Programme
from creditbank.mapping.graph import MappingGraph
from creditbank.mapping.issues import raise_issues
from creditbank.mapping.mappings import Mapping, Qualification
from creditbank.mapping.rules import mapping_in_force

__all__ = ["Catalog"]


class Catalog:
    """Programmes and mapping versions that agree with each other."""

    def __init__(
        self, programmes: Iterable[Programme] = (), mappings: Iterable[Mapping] = ()
    ) -> None:
        programme_list = list(programmes)
        mapping_list = list(mappings)
        raise_issues(catalog_issues(programme_list, mapping_list))
        self._programmes = tuple(sorted(programme_list, key=lambda p: p.code))
        self._mappings = tuple(sorted(mapping_list, key=lambda m: (m.mapping_id, m.version)))
        self._by_code = {p.code: p for p in self._programmes}
        versions: dict[str, list[Mapping]] = defaultdict(list)
        for mapping in self._mappings:
            versions[mapping.mapping_id].append(mapping)
        self._versions = {key: tuple(value) for key, value in versions.items()}

    def __repr__(self) -> str:
        return f"Catalog({len(self._programmes)} programmes, {len(self._mappings)} mappings)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Catalog):
            return NotImplemented
        return self._programmes == other._programmes and self._mappings == other._mappings

    def __hash__(self) -> int:
        return hash((self._programmes, self._mappings))

    @property
    def programmes(self) -> tuple[Programme, ...]:
        return self._programmes

    @property
    def mappings(self) -> tuple[Mapping, ...]:
        """Every version of every mapping, ordered by mapping_id then version."""
        return self._mappings

    @cached_property
    def qualifications(self) -> tuple[Qualification, ...]:
        """Every occupation some mapping asks for, ordered by code."""
        found = {
            source.code: Qualification(source.code, source.name)
            for mapping in self._mappings
            for source in mapping.qualification_requirements
        }
        return tuple(found[code] for code in sorted(found))

    @cached_property
    def graph(self) -> MappingGraph:
        """The equivalence graph of this catalogue (built on first use, then reused)."""
        return MappingGraph(self._programmes, self._mappings)

    def programme(self, code: str) -> Programme:
        try:
            return self._by_code[code]
        except KeyError:
            raise NotFoundError(f"no programme {code!r} in the catalogue") from None

    def versions(self, mapping_id: str) -> tuple[Mapping, ...]:
        """All versions of a mapping, oldest first (empty if it is unknown)."""
        return self._versions.get(mapping_id, ())

    def mapping(self, mapping_id: str, version: int | None = None) -> Mapping:
        """One version of a mapping (the latest when ``version`` is None)."""
        versions = self.versions(mapping_id)
        for mapping in reversed(versions):
            if version is None or mapping.version == version:
                return mapping
        suffix = "" if version is None else f" version {version}"
        raise NotFoundError(f"no mapping {mapping_id!r}{suffix} in the catalogue")

    def mapping_in_force(self, mapping_id: str, as_of: date) -> Mapping | None:
        """The version of a mapping in force on ``as_of`` (versions never overlap), if any."""
        for mapping in self.versions(mapping_id):
            if mapping_in_force(mapping, as_of):
                return mapping
        return None

    def mappings_in_force(self, as_of: date) -> tuple[Mapping, ...]:
        return tuple(m for m in self._mappings if mapping_in_force(m, as_of))

    def with_mapping(self, mapping: Mapping) -> Catalog:
        """A new catalogue with one more mapping version (checked like any other)."""
        return Catalog(self._programmes, (*self._mappings, mapping))

    def without_mapping(self, mapping_id: str, version: int | None = None) -> Catalog:
        """A new catalogue without a mapping version (or without every version)."""
        self.mapping(mapping_id, version)  # NotFoundError if absent
        kept = [
            m
            for m in self._mappings
            if not (m.mapping_id == mapping_id and (version is None or m.version == version))
        ]
        return Catalog(self._programmes, kept)
