"""Course-recognition cycles within one institution, found with networkx.

The other module of the mapping package that touches networkx (with ``graph.py``): it builds its
own small graph, of the ``credit_recognition`` mappings between courses of one institution, for
the map's consistency check (:mod:`creditbank.mapping.consistency`), and answers with
:class:`~creditbank.mapping.graph.Hop` values, never networkx objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import networkx as nx

from creditbank.mapping.graph import Hop
from creditbank.mapping.mappings import Mapping, Mode

__all__ = ["institution_cycles"]


def institution_cycles(mappings: Iterable[Mapping]) -> list[tuple[Hop, ...]]:
    """Cycles of course recognition that stay within one institution (one per cycle group).

    Mutual recognition between two institutions is normal and allowed; within one institution a
    course recognised, directly or through others, for itself means two codes for one course.
    """
    graph: Any = nx.DiGraph()
    for mapping in mappings:
        source = mapping.source_course
        if mapping.mode is not Mode.CREDIT_RECOGNITION or source is None:
            continue
        for target in mapping.targets:
            if target.institution == source.institution and not graph.has_edge(
                source.key, target.key
            ):
                graph.add_edge(source.key, target.key, hop=Hop(source, target, mapping))
    cycles: list[tuple[Hop, ...]] = []
    for group in sorted((sorted(c) for c in nx.strongly_connected_components(graph)), key=min):
        if len(group) < 2:
            continue
        edges = nx.find_cycle(graph.subgraph(group), source=group[0])
        cycles.append(tuple(graph.edges[u, v]["hop"] for u, v, *_ in edges))
    return cycles
