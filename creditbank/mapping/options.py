"""Which holdings may use which mapping: the candidate conversions of a learner.

An :class:`Option` is one way to use a mapping: the holding(s) that meet its source requirement
(one certificate per required qualification, or one course credit carried along a chain of
recognitions). The planner chooses among options; :func:`~creditbank.mapping.evaluation.evaluate`
checks a registrar's choice with the same two functions, :func:`certificate_set_refusal` and
:func:`best_chain`, so both apply one definition of "eligible".

For every holding that has no option, :func:`candidate_options` keeps the refusal that got
furthest (a holding below level for one mapping but merely expired for another is reported
expired: that is the closer miss).

Why the number of options stays polynomial (issue 9, item 3): a plan counts one certificate per
trade, so among the certificates of one trade that a mapping admits only the most preferred of each
*class* can matter, a class being "already counted toward the certificate cap or not" (within a
class they are interchangeable: same courses, same exclusion group, same cap use). A many-to-one
mapping therefore gets at most 2^k options for its k required trades instead of the product of
every admitted certificate (160 x 160 what-if certificates made 25,600 options and a 30 s solve).
Course credits are not grouped by trade; a mapping is used at most once in any useful allocation, so
keeping the K most preferred credit holdings per mapping, K being the number of mappings credit
holdings reach, keeps an optimal allocation reachable (at most K - 1 of them can be taken by the
other mappings). A holding dropped this way is a *stand-in* case: it is explained by the holding
kept in its place. The options are thus bounded by the map, not by what a request sends.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from creditbank.mapping.catalog import Catalog
from creditbank.mapping.courses import Course, Programme
from creditbank.mapping.graph import DEFAULT_MAX_DEPTH, Hop
from creditbank.mapping.holdings import CertificateHolding, CreditHolding, Holding, Holdings
from creditbank.mapping.mappings import Mapping, Mode
from creditbank.mapping.posted import Posted, binding_refusal
from creditbank.mapping.rules import Reason, Refusal, Stage, certificate_refusal, credit_refusal
from creditbank.mapping.wording import Wording, joined, wording

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
    #: holding id -> the interchangeable, preferred holding kept in its place (see above)
    stand_ins: dict[str, str] = field(default_factory=dict)


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
                wording(
                    "mapping {mapping} does not take a {code} certificate (holding {holding}); "
                    "it takes {codes}",
                    mapping=mapping.label,
                    code=holding.qualification_code,
                    holding=holding.holding_id,
                    codes=", ".join(sorted(requirements)),
                ),
                Stage.PROGRAMME,
            )
        if holding.qualification_code in given:
            return Refusal(
                Reason.SOURCE_MISMATCH,
                wording(
                    "mapping {mapping} takes one {code} certificate, got {first} and {second}",
                    mapping=mapping.label,
                    code=holding.qualification_code,
                    first=given[holding.qualification_code].holding_id,
                    second=holding.holding_id,
                ),
                Stage.PROGRAMME,
            )
        given[holding.qualification_code] = holding
    for code, requirement in requirements.items():
        holding_or_none = given.get(code)
        if holding_or_none is None:
            return Refusal(
                Reason.REQUIREMENT_INCOMPLETE,
                wording(
                    "mapping {mapping} needs a {name} ({code}) certificate at level {min_level} "
                    "or better as well; none was given",
                    mapping=mapping.label,
                    name=requirement.name,
                    code=code,
                    min_level=requirement.min_level,
                ),
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
    stand_ins: dict[str, str] = {}
    options: dict[tuple[str, tuple[str, ...]], Option] = {}

    def add(mapping: Mapping, members: tuple[Holding, ...], chain: tuple[Hop, ...] = ()) -> None:
        courses = tuple(t for t in mapping.targets if t.course_code not in posted.credited)
        if mapping.mode is Mode.THROUGH_TRAIN and (
            len(courses) < len(mapping.targets) or posted.through_train_credits > 0
        ):
            for holding in members:
                tracker.note(holding, _block_taken(mapping, posted))
            return
        if not courses:
            for holding in members:
                tracker.note(
                    holding,
                    Refusal(
                        Reason.COURSE_ALREADY_CREDITED,
                        wording(
                            "every course of mapping {mapping} is already recognised",
                            mapping=mapping.label,
                        ),
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
                kept = [
                    _preferred_certificates(admitted, posted, stand_ins) for admitted in eligible
                ]
                for members in itertools.product(*kept):
                    add(mapping, tuple(members))
            else:
                tracker.incomplete(mapping, eligible)
    by_mapping: dict[str, list[tuple[CreditHolding, tuple[Hop, ...]]]] = {}
    chains_of: dict[tuple[str, str], list[tuple[Hop, ...]]] = {}
    for credit in holdings.credits:
        if credit.key not in chains_of:
            chains_of[credit.key] = list(
                catalog.graph.articulation_chains(
                    credit.institution, credit.course_code, max_depth=max_depth
                )
            )
        finals: dict[str, list[tuple[Hop, ...]]] = {}
        for chain in chains_of[credit.key]:
            if chain[-1].mapping.programme_code == programme.code:
                finals.setdefault(chain[-1].mapping.label, []).append(chain)
            else:
                tracker.elsewhere(credit.holding_id, chain[-1].mapping)
        for label, chains in finals.items():
            chosen, refusal = best_chain(chains, credit, as_of, posted)
            if chosen is not None:
                by_mapping.setdefault(label, []).append((credit, chosen))
            elif refusal is not None:
                tracker.note(credit, refusal)
    for label in sorted(by_mapping):
        ranked = sorted(by_mapping[label], key=lambda pair: (pair[0].what_if, pair[0].holding_id))
        for credit, chosen in ranked[: len(by_mapping)]:
            add(chosen[-1].mapping, (credit,), chosen)
        for credit, _ in ranked[len(by_mapping) :]:
            stand_ins.setdefault(credit.holding_id, ranked[0][0].holding_id)
    ordered = sorted(
        options.values(), key=lambda o: (o.mapping.mapping_id, o.mapping.version, o.holding_ids)
    )
    used = {h.holding_id for o in ordered for h in o.holdings}
    explained = {k: v for k, v in stand_ins.items() if k not in used and v in used}
    refusals = tracker.result(holdings, used | set(explained))
    for pruned, chosen_one in stand_ins.items():  # the one kept was refused: so is its stand-in
        if pruned not in used and chosen_one in refusals and pruned not in tracker.best:
            refusals[pruned] = refusals[chosen_one]
    return Candidates(tuple(ordered), refusals, explained)


def _preferred_certificates(
    admitted: list[CertificateHolding], posted: Posted, stand_ins: dict[str, str]
) -> list[CertificateHolding]:
    """The most preferred certificate of each class (counted already or not); see the docstring."""
    classes: dict[bool, list[CertificateHolding]] = {}
    for holding in admitted:
        classes.setdefault(holding.holding_id in posted.certificate_ids, []).append(holding)
    kept = []
    for members in classes.values():
        members.sort(key=lambda h: (h.what_if, h.level, h.holding_id))
        kept.append(members[0])
        for other in members[1:]:
            stand_ins.setdefault(other.holding_id, members[0].holding_id)
    return sorted(kept, key=lambda h: h.holding_id)


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
            wording(
                "{name} ({code}) level {min_level} or better",
                name=r.name,
                code=r.code,
                min_level=r.min_level,
            )
            for r, admitted in zip(mapping.qualification_requirements, eligible, strict=True)
            if not admitted
        ]
        for admitted in eligible:
            for holding in admitted:
                self.note(
                    holding,
                    Refusal(
                        Reason.REQUIREMENT_INCOMPLETE,
                        wording(
                            "mapping {mapping} needs this certificate together with {missing}, "
                            "which is not held (or not eligible)",
                            mapping=mapping.label,
                            missing=joined("{first} and {second}", missing),
                        ),
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
                said = (
                    wording(
                        "no mapping converts {holding} into programme {programme}; its mappings "
                        "lead to {elsewhere}",
                        holding=_describe(holding),
                        programme=self.programme.code,
                        elsewhere=", ".join(elsewhere),
                    )
                    if elsewhere
                    else wording(
                        "no mapping converts {holding} into programme {programme}",
                        holding=_describe(holding),
                        programme=self.programme.code,
                    )
                )
                refusal = Refusal(Reason.NO_MAPPING, said, Stage.PROGRAMME)
            refusals[holding.holding_id] = refusal
        return refusals


def _block_taken(mapping: Mapping, posted: Posted) -> Refusal:
    """Why a through-train block cannot be used once part of it, or another block, is posted."""
    if posted.through_train_credits > 0:
        return Refusal(
            Reason.CAP_EXCEEDED,
            wording(
                "a through-train block is already recognised ({credits} credits); a programme "
                "recognises one block per learner, so {mapping} cannot",
                credits=posted.through_train_credits,
                mapping=mapping.label,
            ),
            Stage.ALLOCATION,
            cap="through-train-credits",
        )
    taken = [t.course_code for t in mapping.targets if t.course_code in posted.credited]
    return Refusal(
        Reason.BLOCK_INCOMPLETE,
        wording(
            "through-train block {mapping} is recognised whole, and {courses} is already "
            "recognised otherwise",
            mapping=mapping.label,
            courses=", ".join(taken),
        ),
        Stage.ALLOCATION,
    )


def _describe(holding: Holding) -> Wording:
    if isinstance(holding, CertificateHolding):
        return wording("a {code} certificate", code=holding.qualification_code)
    return wording(
        "credit in {institution}:{course}",
        institution=holding.institution,
        course=holding.course_code,
    )
