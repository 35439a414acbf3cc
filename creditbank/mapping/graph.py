"""The equivalence graph, one of the two modules that touch networkx (with ``cycles.py``).

Nodes are qualifications at a level (``6-18-02-04`` level 3), courses (institution + code) and
programmes. Edges:

- ``satisfies``: level L of a trade to level L+1 (a level-3 certificate meets a level-4 requirement);
- ``maps-to``: a qualification at a mapping's minimum level to each course the mapping credits;
- ``articulates-to``: a course to a course it is recognised for (``credit_recognition``); these are
  followed transitively, to a depth limit and never through the same course twice;
- ``part-of``: a course to each programme that lists it.

Every edge carries the :class:`~creditbank.mapping.mappings.Mapping` version that made it, so any
answer can be explained by the path that produced it. Queries return our own dataclasses, never
networkx objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx

from creditbank.errors import NotFoundError
from creditbank.mapping.courses import Course, CourseKey, Programme
from creditbank.mapping.mappings import (
    CourseRequirement,
    Mapping,
    Mode,
    QualificationRequirement,
    Source,
)
from creditbank.mapping.rules import mapping_in_force
from creditbank.mapping.values import HIGHEST_LEVEL, LOWEST_LEVEL

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "Conversion",
    "CourseSource",
    "Hop",
    "MappingGraph",
    "PathStep",
]

#: How many course-to-course recognitions a credit may be carried through.
DEFAULT_MAX_DEPTH = 3

_Node = tuple[str, ...] | tuple[str, str, int]


@dataclass(frozen=True)
class PathStep:
    """One edge of an explanation: ``source --relation--> target`` (via a mapping if any)."""

    source: str
    target: str
    relation: str
    mapping_id: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        via = f" [{self.mapping_id} v{self.version}]" if self.mapping_id else ""
        return f"{self.source} --{self.relation}{via}--> {self.target}"


@dataclass(frozen=True)
class Hop:
    """One course-to-course recognition in a chain."""

    source: CourseRequirement
    target: Course
    mapping: Mapping


@dataclass(frozen=True)
class Conversion:
    """A course that a source converts into, the mapping that grants it, and the path why.

    ``chain`` lists every mapping a course credit is carried through (the last one grants the
    course); ``also_requires`` names the other certificates a many-to-one mapping needs.
    """

    mapping: Mapping
    course: Course
    path: tuple[PathStep, ...]
    chain: tuple[Mapping, ...] = ()
    also_requires: tuple[QualificationRequirement, ...] = ()


@dataclass(frozen=True)
class CourseSource:
    """Something that converts into a course: a qualification or another course, and how."""

    source: Source
    mapping: Mapping
    path: tuple[PathStep, ...]


def _qualification(code: str, level: int) -> _Node:
    return ("qualification", code, level)


def _course(key: CourseKey) -> _Node:
    return ("course", key[0], key[1])


def _label(node: Any) -> str:
    if node[0] == "qualification":
        return f"{node[1]} level {node[2]}"
    if node[0] == "course":
        return f"{node[1]}:{node[2]}"
    return f"programme {node[1]}"


class MappingGraph:
    """The catalogue as a graph, built once per catalogue and then only read."""

    def __init__(self, programmes: Iterable[Programme], mappings: Iterable[Mapping]) -> None:
        graph: Any = nx.MultiDiGraph()
        for programme in programmes:
            for course in programme.courses:
                graph.add_edge(
                    _course(course.key),
                    ("programme", programme.code),
                    key=("part-of", programme.code),
                    relation="part-of",
                )
        for mapping in mappings:
            if mapping.mode is Mode.CREDIT_RECOGNITION:
                source = mapping.source_course
                if source is None:  # pragma: no cover - excluded by Mapping's invariants
                    continue
                for target in mapping.targets:
                    graph.add_edge(
                        _course(source.key),
                        _course(target.key),
                        key=mapping.label,
                        relation="articulates-to",
                        mapping=mapping,
                    )
                continue
            for requirement in mapping.qualification_requirements:
                self._add_levels(graph, requirement.code)
                for target in mapping.targets:
                    graph.add_edge(
                        _qualification(requirement.code, requirement.min_level),
                        _course(target.key),
                        key=mapping.label,
                        relation="maps-to",
                        mapping=mapping,
                    )
        self._graph = graph
        self._memo: dict[tuple[str, Any, str], tuple[tuple[Any, Mapping], ...]] = {}

    @staticmethod
    def _add_levels(graph: Any, code: str) -> None:
        if _qualification(code, HIGHEST_LEVEL) in graph:
            return
        for level in range(HIGHEST_LEVEL, LOWEST_LEVEL):
            graph.add_edge(
                _qualification(code, level),
                _qualification(code, level + 1),
                key="satisfies",
                relation="satisfies",
            )

    def _out(self, node: _Node, relation: str) -> tuple[tuple[Any, Mapping], ...]:
        """Out-edges of one relation, as (target, mapping), in mapping order."""
        return self._edges("out", node, relation)

    def _in(self, node: _Node, relation: str) -> tuple[tuple[Any, Mapping], ...]:
        """In-edges of one relation, as (source, mapping), in mapping order."""
        return self._edges("in", node, relation)

    def _edges(self, side: str, node: _Node, relation: str) -> tuple[tuple[Any, Mapping], ...]:
        """Edges of one relation on one side of ``node`` (memoised: the graph never changes)."""
        key = (side, node, relation)
        if key not in self._memo:
            edges: list[tuple[Any, Mapping]] = []
            if node in self._graph:
                found = (
                    self._graph.out_edges(node, data=True)
                    if side == "out"
                    else self._graph.in_edges(node, data=True)
                )
                edges = [
                    (target if side == "out" else source, data["mapping"])
                    for source, target, data in found
                    if data["relation"] == relation
                ]
            self._memo[key] = tuple(
                sorted(edges, key=lambda e: (e[1].mapping_id, e[1].version, e[0]))
            )
        return self._memo[key]

    def qualification_path(
        self, code: str, level: int, mapping: Mapping, course: Course
    ) -> tuple[PathStep, ...]:
        """The path by which a certificate at ``level`` reaches ``course`` through ``mapping``."""
        requirement = next(r for r in mapping.qualification_requirements if r.code == code)
        climb = [
            PathStep(
                _label(_qualification(code, at)), _label(_qualification(code, at + 1)), "satisfies"
            )
            for at in range(level, requirement.min_level)
        ]
        node, target = _qualification(code, requirement.min_level), _course(course.key)
        return (*climb, self._step(node, target, mapping), self._part_of(target, mapping))

    # --- queries ----------------------------------------------------------------------------

    def mappings_of_qualification(self, code: str) -> tuple[Mapping, ...]:
        """Every mapping version (in force or not) that asks for a certificate of ``code``."""
        key = ("mappings", code, "maps-to")
        if key not in self._memo:
            found: dict[str, Mapping] = {}
            for level in range(HIGHEST_LEVEL, LOWEST_LEVEL + 1):
                for _, mapping in self._out(_qualification(code, level), "maps-to"):
                    found.setdefault(mapping.label, mapping)
            ordered = sorted(found.values(), key=lambda m: (m.mapping_id, m.version))
            self._memo[key] = tuple((None, m) for m in ordered)
        return tuple(m for _, m in self._memo[key])

    def conversions_of_qualification(
        self,
        code: str,
        level: int,
        *,
        programme_code: str | None = None,
        as_of: date | None = None,
    ) -> list[Conversion]:
        """What a certificate of ``code`` at ``level`` converts into (for a programme, on a date)."""
        results: list[Conversion] = []
        climb: list[PathStep] = []
        for required in range(level, LOWEST_LEVEL + 1):
            node = _qualification(code, required)
            if required > level:
                climb.append(
                    PathStep(_label(_qualification(code, required - 1)), _label(node), "satisfies")
                )
            for target, mapping in self._out(node, "maps-to"):
                if programme_code is not None and mapping.programme_code != programme_code:
                    continue
                if as_of is not None and not mapping_in_force(mapping, as_of):
                    continue
                course = mapping.target(target[2])
                if course is None:  # pragma: no cover - edges are built from the targets
                    continue
                path = (*climb, self._step(node, target, mapping), self._part_of(target, mapping))
                others = tuple(r for r in mapping.qualification_requirements if r.code != code)
                results.append(Conversion(mapping, course, path, (mapping,), others))
        return results

    def articulation_chains(
        self,
        institution: str,
        course_code: str,
        *,
        as_of: date | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> list[tuple[Hop, ...]]:
        """Every chain of course recognitions from a course, at most ``max_depth`` long."""
        chains: list[tuple[Hop, ...]] = []

        def walk(node: _Node, chain: tuple[Hop, ...], visited: frozenset[Any]) -> None:
            for target, mapping in self._out(node, "articulates-to"):
                if target in visited:
                    continue
                if as_of is not None and not mapping_in_force(mapping, as_of):
                    continue
                source, course = mapping.source_course, mapping.target(target[2])
                if source is None or course is None:  # pragma: no cover - built from mappings
                    continue
                extended = (*chain, Hop(source, course, mapping))
                chains.append(extended)
                if len(extended) < max_depth:
                    walk(target, extended, visited | {target})

        start = _course((institution, course_code))
        walk(start, (), frozenset({start}))
        return chains

    def conversions_of_course(
        self,
        institution: str,
        course_code: str,
        *,
        programme_code: str | None = None,
        as_of: date | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> list[Conversion]:
        """What credit in a course converts into, following recognitions transitively."""
        results: list[Conversion] = []
        for chain in self.articulation_chains(
            institution, course_code, as_of=as_of, max_depth=max_depth
        ):
            last = chain[-1]
            if programme_code is not None and last.mapping.programme_code != programme_code:
                continue
            results.append(
                Conversion(
                    last.mapping,
                    last.target,
                    chain_path(chain),
                    tuple(hop.mapping for hop in chain),
                )
            )
        return results

    def sources_of_course(
        self,
        institution: str,
        course_code: str,
        *,
        as_of: date | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> list[CourseSource]:
        """Which qualifications and courses convert into a course (directly or transitively)."""
        results: list[CourseSource] = []
        goal = _course((institution, course_code))
        for source, mapping in self._in(goal, "maps-to"):
            if as_of is not None and not mapping_in_force(mapping, as_of):
                continue
            requirement = next(r for r in mapping.qualification_requirements if r.code == source[1])
            results.append(CourseSource(requirement, mapping, (self._step(source, goal, mapping),)))

        def walk(node: _Node, path: tuple[PathStep, ...], visited: frozenset[Any]) -> None:
            for source, mapping in self._in(node, "articulates-to"):
                if source in visited:
                    continue
                if as_of is not None and not mapping_in_force(mapping, as_of):
                    continue
                extended = (self._step(source, node, mapping), *path)
                if mapping.source_course is not None:
                    results.append(CourseSource(mapping.source_course, mapping, extended))
                if len(extended) < max_depth:
                    walk(source, extended, visited | {source})

        walk(goal, (), frozenset({goal}))
        return results

    def explain(
        self,
        source_code: str,
        institution: str,
        course_code: str,
        *,
        level: int = HIGHEST_LEVEL,
        as_of: date | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> tuple[PathStep, ...]:
        """The shortest path by which ``source_code`` converts into a course.

        ``source_code`` is an occupation code (judged at ``level``) or ``INSTITUTION:COURSE``.
        Raises ``NotFoundError`` when no path exists.
        """
        if ":" in source_code:
            source_institution, source_course = source_code.split(":", 1)
            conversions = self.conversions_of_course(
                source_institution, source_course, as_of=as_of, max_depth=max_depth
            )
        else:
            conversions = self.conversions_of_qualification(source_code, level, as_of=as_of)
        paths = [c.path for c in conversions if c.course.key == (institution, course_code)]
        if not paths:
            raise NotFoundError(f"{source_code} does not convert into {institution}:{course_code}")
        return min(paths, key=lambda p: (len(p), [(s.mapping_id or "", s.version or 0) for s in p]))

    # --- path steps --------------------------------------------------------------------------

    @staticmethod
    def _step(source: Any, target: Any, mapping: Mapping) -> PathStep:
        relation = "articulates-to" if source[0] == "course" else "maps-to"
        return PathStep(
            _label(source), _label(target), relation, mapping.mapping_id, mapping.version
        )

    @staticmethod
    def _part_of(course: Any, mapping: Mapping) -> PathStep:
        return PathStep(_label(course), _label(("programme", mapping.programme_code)), "part-of")


def chain_path(chain: tuple[Hop, ...]) -> tuple[PathStep, ...]:
    """The explanation of a chain of course recognitions, ending at the target's programme."""
    steps = [
        PathStep(
            hop.source.label,
            hop.target.label,
            "articulates-to",
            hop.mapping.mapping_id,
            hop.mapping.version,
        )
        for hop in chain
    ]
    last = chain[-1]
    steps.append(PathStep(last.target.label, f"programme {last.mapping.programme_code}", "part-of"))
    return tuple(steps)
