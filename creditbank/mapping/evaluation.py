"""Check a proposed set of recognitions against every rule and cap.

This is what the accounts layer runs before it appends a ``conversion.posted`` entry, and what the
planner runs on its own answer: one implementation of the rules, used both ways. It either returns
the recognitions with the credits the rules give, or raises ``RuleViolation`` whose ``code`` is a
:class:`~creditbank.mapping.rules.Reason` and whose message a registrar can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from creditbank.mapping.bounds import check_blocks, check_caps, violate
from creditbank.mapping.catalog import Catalog
from creditbank.mapping.courses import Course, Programme
from creditbank.mapping.explanations import MODE_NAMES, certificate_met, version_span
from creditbank.mapping.graph import DEFAULT_MAX_DEPTH, chain_path
from creditbank.mapping.holdings import CertificateHolding, CreditHolding, Holding, Holdings
from creditbank.mapping.mappings import Mapping, Mode
from creditbank.mapping.options import best_chain, certificate_set_refusal
from creditbank.mapping.outcome import Proposal, Recognition
from creditbank.mapping.posted import Posted, PostedRecognition, summarise_posted
from creditbank.mapping.rules import Reason
from creditbank.mapping.wording import Wording, joined, wording

__all__ = ["evaluate"]


def evaluate(
    catalog: Catalog,
    holdings: Holdings,
    programme_code: str,
    as_of: date,
    proposed: Iterable[Proposal],
    *,
    already_recognised: Iterable[PostedRecognition] = (),
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> list[Recognition]:
    """The recognitions ``proposed`` earns on ``as_of``, or ``RuleViolation`` for the first breach.

    Proposals are checked in the order given; the caps are checked over all of them together with
    ``already_recognised``. A course credit may be carried through at most ``max_depth``
    recognitions.
    """
    programme = catalog.programme(programme_code)
    posted = summarise_posted(catalog, holdings, already_recognised)
    credited = dict.fromkeys(posted.credited, wording("it is already recognised"))
    bound = dict(posted.bound)
    one_per_trade: dict[str, CertificateHolding] = {}
    recognitions: list[Recognition] = []
    blocks: dict[str, Mapping] = {}
    for proposal in proposed:
        course = _course(programme, proposal)
        if course.course_code in credited:
            violate(
                Reason.COURSE_ALREADY_CREDITED,
                wording(
                    "course {course} ({title}) cannot be credited twice: {why}",
                    course=course.course_code,
                    title=course.title,
                    why=credited[course.course_code],
                ),
            )
        mapping = _mapping(catalog, programme, proposal, as_of)
        sources = _sources(holdings, proposal)
        if mapping.mode is Mode.THROUGH_TRAIN:
            blocks[mapping.mapping_id] = mapping
        recognitions.append(_recognise(catalog, mapping, course, sources, as_of, posted, max_depth))
        for holding in sources:
            previous = bound.setdefault(holding.holding_id, mapping.mapping_id)
            if previous != mapping.mapping_id:
                violate(
                    Reason.SOURCE_ALREADY_USED,
                    wording(
                        "holding {holding} is used with mapping {previous} and with {mapping}; "
                        "a source serves one mapping only",
                        holding=holding.holding_id,
                        previous=previous,
                        mapping=mapping.mapping_id,
                    ),
                )
            if isinstance(holding, CertificateHolding):
                kept = one_per_trade.setdefault(holding.qualification_code, holding)
                if kept.holding_id != holding.holding_id:
                    violate(
                        Reason.SUPERSEDED,
                        wording(
                            "certificates {kept} (level {kept_level}) and {holding} (level "
                            "{level}) are of the same trade {code}: only one certificate of a "
                            "trade counts, the higher supersedes the lower",
                            kept=kept.holding_id,
                            kept_level=kept.level,
                            holding=holding.holding_id,
                            level=holding.level,
                            code=holding.qualification_code,
                        ),
                    )
        credited[course.course_code] = wording(
            "it is already proposed from {sources} under {mapping}",
            sources=", ".join(proposal.sources),
            mapping=mapping.label,
        )
    check_blocks(programme, blocks, recognitions, posted)
    check_caps(programme, recognitions, one_per_trade.values(), posted)
    return recognitions


def _course(programme: Programme, proposal: Proposal) -> Course:
    course = programme.course(proposal.course_code)
    if course is None:
        violate(
            Reason.NOT_IN_PROGRAMME,
            wording(
                "course {course} is not part of programme {programme}",
                course=proposal.course_code,
                programme=programme.code,
            ),
        )
    return course


def _mapping(catalog: Catalog, programme: Programme, proposal: Proposal, as_of: date) -> Mapping:
    versions = catalog.versions(proposal.mapping_id)
    if not versions:
        violate(
            Reason.UNKNOWN_MAPPING,
            wording("there is no mapping {mapping}", mapping=repr(proposal.mapping_id)),
        )
    mapping = catalog.mapping_in_force(proposal.mapping_id, as_of)
    if mapping is None:
        spans = joined("{first}, {second}", [version_span(m) for m in versions])
        violate(
            Reason.MAPPING_NOT_IN_FORCE,
            wording(
                "mapping {mapping} has no version in force on {as_of} ({spans})",
                mapping=proposal.mapping_id,
                as_of=as_of,
                spans=spans,
            ),
        )
    if mapping.programme_code != programme.code or mapping.target(proposal.course_code) is None:
        targets = ", ".join(t.course_code for t in mapping.targets)
        violate(
            Reason.NOT_IN_PROGRAMME,
            wording(
                "mapping {mapping} recognises {targets} of programme {target_programme}, not "
                "course {course} of programme {programme}",
                mapping=mapping.label,
                targets=targets,
                target_programme=mapping.programme_code,
                course=proposal.course_code,
                programme=programme.code,
            ),
        )
    return mapping


def _sources(holdings: Holdings, proposal: Proposal) -> list[Holding]:
    if not proposal.sources:
        violate(
            Reason.SOURCE_MISMATCH,
            wording("no source holding given for course {course}", course=proposal.course_code),
        )
    if len(set(proposal.sources)) != len(proposal.sources):
        violate(
            Reason.SOURCE_MISMATCH,
            wording(
                "a source holding is listed twice for course {course}", course=proposal.course_code
            ),
        )
    sources = []
    for holding_id in proposal.sources:
        holding = holdings.get(holding_id)
        if holding is None:
            violate(
                Reason.UNKNOWN_HOLDING,
                wording("the learner has no holding {holding}", holding=repr(holding_id)),
            )
        sources.append(holding)
    return sources


def _recognise(
    catalog: Catalog,
    mapping: Mapping,
    course: Course,
    sources: Sequence[Holding],
    as_of: date,
    posted: Posted,
    max_depth: int,
) -> Recognition:
    def where(detail: Wording) -> Wording:
        return wording(
            "course {course} under mapping {mapping}: {detail}",
            course=course.course_code,
            mapping=mapping.label,
            detail=detail,
        )

    ids = tuple(sorted(h.holding_id for h in sources))
    what_if = any(h.what_if for h in sources)
    if mapping.mode is Mode.CREDIT_RECOGNITION:
        credit = sources[0]
        if len(sources) != 1 or not isinstance(credit, CreditHolding):
            violate(
                Reason.SOURCE_MISMATCH,
                wording(
                    "course {course} under mapping {mapping} takes exactly one course credit",
                    course=course.course_code,
                    mapping=mapping.label,
                ),
            )
        chains = [
            chain
            for chain in catalog.graph.articulation_chains(
                credit.institution, credit.course_code, max_depth=max_depth
            )
            if chain[-1].mapping == mapping
        ]
        if not chains:
            violate(
                Reason.SOURCE_MISMATCH,
                where(
                    wording(
                        "credit in {institution}:{course} does not lead to this mapping through "
                        "recognised courses",
                        institution=credit.institution,
                        course=credit.course_code,
                    )
                ),
            )
        chain, refusal = best_chain(chains, credit, as_of, posted)
        if chain is None:
            violate(
                refusal.reason if refusal else Reason.SOURCE_MISMATCH,
                where(refusal.wording if refusal else wording("no admissible chain")),
            )
        rule = "grade-threshold" if len(chain) == 1 else "articulation"
        path = chain_path(chain)
        explanation = wording(
            "credit in {institution}:{course} (grade {grade}, earned {earned}) recognised "
            "through {mappings}",
            institution=credit.institution,
            course=credit.course_code,
            grade=credit.grade,
            earned=credit.earned_for(as_of),
            mappings=joined("{first} then {second}", [h.mapping.label for h in chain]),
        )
    else:
        certificates = [h for h in sources if isinstance(h, CertificateHolding)]
        if len(certificates) != len(sources):
            violate(
                Reason.SOURCE_MISMATCH,
                wording(
                    "course {course} under mapping {mapping} takes certificates, not course "
                    "credits",
                    course=course.course_code,
                    mapping=mapping.label,
                ),
            )
        refusal = certificate_set_refusal(mapping, certificates, as_of, posted)
        if refusal is not None:
            violate(refusal.reason, where(refusal.wording))
        rule = _certificate_rule(mapping, certificates, posted)
        first = certificates[0]
        path = catalog.graph.qualification_path(
            first.qualification_code, first.level, mapping, course
        )
        explanation = joined(
            "{first}; {second}",
            [
                certificate_met(r, c, mapping, as_of)
                for r, c in zip(
                    mapping.qualification_requirements,
                    sorted(certificates, key=lambda c: _position(mapping, c)),
                    strict=True,
                )
            ],
        )
    return Recognition(
        course=course,
        credits=course.credits,
        source_holding_ids=ids,
        mapping_id=mapping.mapping_id,
        version=mapping.version,
        mode=mapping.mode,
        rule=rule,
        wording=wording(
            "{mode}: {explanation}", mode=MODE_NAMES[mapping.mode], explanation=explanation
        ),
        path=path,
        what_if=what_if,
    )


def _position(mapping: Mapping, certificate: CertificateHolding) -> int:
    codes = [r.code for r in mapping.qualification_requirements]
    return codes.index(certificate.qualification_code)


def _certificate_rule(
    mapping: Mapping, certificates: Sequence[CertificateHolding], posted: Posted
) -> str:
    if len(mapping.qualification_requirements) > 1:
        return "many-to-one"
    certificate = certificates[0]
    earlier = posted.used_by_trade.get(certificate.qualification_code, ())
    if any(e.holding_id != certificate.holding_id for e in earlier):
        return "top-up"
    return "level-threshold"
