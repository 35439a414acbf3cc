"""Which holdings may use which mapping: the candidate conversions of a learner.

An :class:`Option` is one way to use a mapping: the holding(s) that meet its source requirement
(one certificate per required qualification, or one course credit carried along a chain of
recognitions). The planner chooses among options; :func:`~creditbank.mapping.evaluation.evaluate`
checks a registrar's choice with the same two functions, :func:`certificate_set_refusal` and
:func:`best_chain`, so both apply one definition of "eligible".

For every holding that has no option, :func:`candidate_options` keeps the refusal that got
furthest (a holding below level for one mapping but merely expired for another is reported
expired: that is the closer miss).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from creditbank.mapping.catalog import Catalog
from creditbank.mapping.courses import Course, Programme
from creditbank.mapping.graph import DEFAULT_MAX_DEPTH, Hop
from creditbank.mapping.holdings import CertificateHolding, CreditHolding, Holding, Holdings
from creditbank.mapping.mappings import Mapping, Mode
from creditbank.mapping.posted import Posted, binding_refusal
from creditbank.mapping.rules import Reason, Refusal, Stage, certificate_refusal, credit_refusal

__all__ = ["Candidates", "Option", "best_chain", "candidate_options", "certificate_set_refusal"]


@dataclass(frozen=True)
class Option:
    """One admissible use of a mapping by specific holdings, and the courses it can credit."""

    mapping: Mapping
    holdings: tuple[Holding, ...]
    courses: tuple[Course, ...]
    chain: tuple[Hop, ...] = ()

    @property
    def holding_ids(self) -> tuple[str, ...]:
        return tuple(sorted(h.holding_id for h in self.holdings))

    @cached_property
    def course_codes(self) -> frozenset[str]:
        return frozenset(c.course_code for c in self.courses)

    @cached_property
    def is_block(self) -> bool:
        """A through-train block (its credits count toward the through-train cap)."""
        return self.mapping.mode is Mode.THROUGH_TRAIN

    @property
    def certificates(self) -> tuple[CertificateHolding, ...]:
        return tuple(h for h in self.holdings if isinstance(h, CertificateHolding))


@dataclass(frozen=True)
class Candidates:
    options: tuple[Option, ...]
    #: holding id -> why it has no option (the furthest refusal)
    refusals: dict[str, Refusal]


def certificate_set_refusal(
    mapping: Mapping, certificates: Sequence[CertificateHolding], as_of: date, posted: Posted
) -> Refusal | None:
    """Why these certificates, together, cannot meet the mapping's requirement (or ``None``)."""
    requirements = {r.code: r for r in mapping.qualification_requirements}
    given: dict[str, CertificateHolding] = {}
    for holding in certificates:
        if holding.qualification_code not in requirements:
            return Refusal(
                Reason.SOURCE_MISMATCH,
                f"mapping {mapping.label} does not take a {holding.qualification_code} "
                f"certificate (holding {holding.holding_id}); it takes "
                f"{', '.join(sorted(requirements))}",
                Stage.PROGRAMME,
            )
        if holding.qualification_code in given:
            return Refusal(
                Reason.SOURCE_MISMATCH,
                f"mapping {mapping.label} takes one {holding.qualification_code} certificate, "
                f"got {given[holding.qualification_code].holding_id} and {holding.holding_id}",
                Stage.PROGRAMME,
            )
        given[holding.qualification_code] = holding
    for code, requirement in requirements.items():
        holding_or_none = given.get(code)
        if holding_or_none is None:
            return Refusal(
                Reason.REQUIREMENT_INCOMPLETE,
                f"mapping {mapping.label} needs a {requirement.name} ({code}) certificate at level "
                f"{requirement.min_level} or better as well; none was given",
                Stage.COMPANIONS,
            )
        refusal = certificate_refusal(holding_or_none, requirement, mapping, as_of)
        refusal = refusal or binding_refusal(holding_or_none, mapping, posted)
        if refusal is not None:
            return refusal
    return None


def best_chain(
    chains: Sequence[tuple[Hop, ...]], holding: CreditHolding, as_of: date, posted: Posted
) -> tuple[tuple[Hop, ...] | None, Refusal | None]:
    """The shortest admissible chain among ``chains`` (all ending at one mapping), else why not."""
    furthest: Refusal | None = None
    for chain in sorted(chains, key=lambda c: (len(c), [h.mapping.label for h in c])):
        refusal = credit_refusal(holding, tuple(h.mapping for h in chain), as_of)
        refusal = refusal or binding_refusal(holding, chain[-1].mapping, posted)
        if refusal is None:
            return chain, None
        if furthest is None or refusal.stage > furthest.stage:
            furthest = refusal
    return None, furthest


def candidate_options(
    catalog: Catalog,
    holdings: Holdings,
    programme: Programme,
    as_of: date,
    posted: Posted,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Candidates:
    """Every admissible option toward ``programme`` and, for the rest, why not."""
    tracker = _Refusals(programme)
    options: dict[tuple[str, tuple[str, ...]], Option] = {}

    def add(mapping: Mapping, members: tuple[Holding, ...], chain: tuple[Hop, ...] = ()) -> None:
        courses = tuple(t for t in mapping.targets if t.course_code not in posted.credited)
        if not courses:
            for holding in members:
                tracker.note(
                    holding,
                    Refusal(
                        Reason.COURSE_ALREADY_CREDITED,
                        f"every course of mapping {mapping.label} is already recognised",
                        Stage.ALLOCATION,
                    ),
                )
            return
        option = Option(mapping, members, courses, chain)
        options.setdefault((mapping.label, option.holding_ids), option)

    by_code: dict[str, list[CertificateHolding]] = {}
    for certificate in holdings.certificates:
        by_code.setdefault(certificate.qualification_code, []).append(certificate)
    for code in sorted(by_code):
        for mapping in catalog.graph.mappings_of_qualification(code):
            if mapping.programme_code != programme.code:
                tracker.elsewhere(code, mapping)
                continue
            eligible: list[list[CertificateHolding]] = []
            for requirement in mapping.qualification_requirements:
                admitted = []
                for holding in by_code.get(requirement.code, []):
                    refusal = certificate_refusal(holding, requirement, mapping, as_of)
                    refusal = refusal or binding_refusal(holding, mapping, posted)
                    if refusal is None:
                        admitted.append(holding)
                    else:
                        tracker.note(holding, refusal)
                eligible.append(admitted)
            if all(eligible):
                for members in itertools.product(*eligible):
                    add(mapping, tuple(members))
            else:
                tracker.incomplete(mapping, eligible)
    for credit in holdings.credits:
        finals: dict[str, list[tuple[Hop, ...]]] = {}
        for chain in catalog.graph.articulation_chains(
            credit.institution, credit.course_code, max_depth=max_depth
        ):
            if chain[-1].mapping.programme_code == programme.code:
                finals.setdefault(chain[-1].mapping.label, []).append(chain)
            else:
                tracker.elsewhere(credit.holding_id, chain[-1].mapping)
        for chains in finals.values():
            chosen, refusal = best_chain(chains, credit, as_of, posted)
            if chosen is not None:
                add(chosen[-1].mapping, (credit,), chosen)
            elif refusal is not None:
                tracker.note(credit, refusal)
    ordered = sorted(
        options.values(), key=lambda o: (o.mapping.mapping_id, o.mapping.version, o.holding_ids)
    )
    used = {h.holding_id for o in ordered for h in o.holdings}
    return Candidates(tuple(ordered), tracker.result(holdings, used))


class _Refusals:
    """The furthest refusal seen per holding, and where else its mappings lead."""

    def __init__(self, programme: Programme) -> None:
        self.programme = programme
        self.best: dict[str, Refusal] = {}
        self.other_programmes: dict[str, set[str]] = {}

    def note(self, holding: Holding, refusal: Refusal) -> None:
        current = self.best.get(holding.holding_id)
        if current is None or refusal.stage > current.stage:
            self.best[holding.holding_id] = refusal

    def elsewhere(self, source: str, mapping: Mapping) -> None:
        """``mapping`` leads ``source`` (an occupation code or a holding id) to another programme."""
        self.other_programmes.setdefault(source, set()).add(mapping.programme_code)

    def incomplete(self, mapping: Mapping, eligible: list[list[CertificateHolding]]) -> None:
        missing = [
            f"{r.name} ({r.code}) level {r.min_level} or better"
            for r, admitted in zip(mapping.qualification_requirements, eligible, strict=True)
            if not admitted
        ]
        for admitted in eligible:
            for holding in admitted:
                self.note(
                    holding,
                    Refusal(
                        Reason.REQUIREMENT_INCOMPLETE,
                        f"mapping {mapping.label} needs this certificate together with "
                        f"{' and '.join(missing)}, which is not held (or not eligible)",
                        Stage.COMPANIONS,
                    ),
                )

    def result(self, holdings: Holdings, used: set[str]) -> dict[str, Refusal]:
        refusals: dict[str, Refusal] = {}
        for holding in holdings:
            if holding.holding_id in used:
                continue
            refusal = self.best.get(holding.holding_id)
            if refusal is None:
                source = (
                    holding.qualification_code
                    if isinstance(holding, CertificateHolding)
                    else holding.holding_id
                )
                elsewhere = sorted(self.other_programmes.get(source, ()))
                where = f"; its mappings lead to {', '.join(elsewhere)}" if elsewhere else ""
                refusal = Refusal(
                    Reason.NO_MAPPING,
                    f"no mapping converts {_describe(holding)} into programme "
                    f"{self.programme.code}{where}",
                    Stage.PROGRAMME,
                )
            refusals[holding.holding_id] = refusal
        return refusals


def _describe(holding: Holding) -> str:
    if isinstance(holding, CertificateHolding):
        return f"a {holding.qualification_code} certificate"
    return f"credit in {holding.institution}:{holding.course_code}"
