"""Check a proposed set of recognitions against every rule and cap.

This is what the accounts layer runs before it appends a ``conversion.posted`` entry, and what the
planner runs on its own answer: one implementation of the rules, used both ways. It either returns
the recognitions with the credits the rules give, or raises ``RuleViolation`` whose ``code`` is a
:class:`~creditbank.mapping.rules.Reason` and whose message a registrar can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import NoReturn

from creditbank.errors import RuleViolation
from creditbank.mapping.catalog import Catalog
from creditbank.mapping.courses import Course, Programme
from creditbank.mapping.graph import DEFAULT_MAX_DEPTH, chain_path
from creditbank.mapping.holdings import CertificateHolding, CreditHolding, Holding, Holdings
from creditbank.mapping.mappings import Mapping, Mode, QualificationRequirement
from creditbank.mapping.options import best_chain, certificate_set_refusal
from creditbank.mapping.outcome import Proposal, Recognition
from creditbank.mapping.posted import Posted, PostedRecognition, summarise_posted
from creditbank.mapping.rules import Reason, cap_usage
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
    credited = dict.fromkeys(posted.credited, "it is already recognised")
    bound = dict(posted.bound)
    one_per_trade: dict[str, CertificateHolding] = {}
    recognitions: list[Recognition] = []
    blocks: dict[str, Mapping] = {}
    for proposal in proposed:
        course = _course(programme, proposal)
        if course.course_code in credited:
            _violate(
                Reason.COURSE_ALREADY_CREDITED,
                f"course {course.course_code} ({course.title}) cannot be credited twice: "
                f"{credited[course.course_code]}",
            )
        mapping = _mapping(catalog, programme, proposal, as_of)
        sources = _sources(holdings, proposal)
        if mapping.mode is Mode.THROUGH_TRAIN:
            blocks[mapping.mapping_id] = mapping
        recognitions.append(_recognise(catalog, mapping, course, sources, as_of, posted, max_depth))
        for holding in sources:
            previous = bound.setdefault(holding.holding_id, mapping.mapping_id)
            if previous != mapping.mapping_id:
                _violate(
                    Reason.SOURCE_ALREADY_USED,
                    f"holding {holding.holding_id} is used with mapping {previous} and with "
                    f"{mapping.mapping_id}; a source serves one mapping only",
                )
            if isinstance(holding, CertificateHolding):
                kept = one_per_trade.setdefault(holding.qualification_code, holding)
                if kept.holding_id != holding.holding_id:
                    _violate(
                        Reason.SUPERSEDED,
                        f"certificates {kept.holding_id} (level {kept.level}) and "
                        f"{holding.holding_id} (level {holding.level}) are of the same trade "
                        f"{holding.qualification_code}: only one certificate of a trade counts, "
                        "the higher supersedes the lower",
                    )
        credited[course.course_code] = (
            f"it is already proposed from {', '.join(proposal.sources)} under {mapping.label}"
        )
    _check_blocks(programme, blocks, recognitions, posted)
    _check_caps(programme, recognitions, one_per_trade.values(), posted)
    return recognitions


def _check_blocks(
    programme: Programme,
    blocks: dict[str, Mapping],
    recognitions: Sequence[Recognition],
    posted: Posted,
) -> None:
    """A through-train block (直通车) is recognised whole, once, within the programme's bounds."""
    if not blocks:
        return
    if len(blocks) > 1 or posted.through_train_credits > 0:
        _violate(
            Reason.CAP_EXCEEDED,
            f"programme {programme.code} recognises one through-train block per learner; "
            + (
                f"this proposes {', '.join(sorted(blocks))}"
                if len(blocks) > 1
                else f"{posted.through_train_credits} credits of a block are already recognised"
            ),
        )
    mapping = next(iter(blocks.values()))
    got = {r.course.course_code for r in recognitions if r.mapping_id == mapping.mapping_id}
    missing = [t.course_code for t in mapping.targets if t.course_code not in got]
    if missing:
        _violate(
            Reason.BLOCK_INCOMPLETE,
            f"through-train block {mapping.label} is recognised whole or not at all; "
            f"{', '.join(missing)} missing / 直通车课程块须整体认定",
        )
    lower = programme.caps.through_train_shares[0] * programme.total_credits
    if mapping.target_credits < lower:
        _violate(
            Reason.BLOCK_INCOMPLETE,
            f"through-train block {mapping.label} carries {mapping.target_credits} credits, less "
            f"than the {lower} (lower share) programme {programme.code} requires of a block",
        )


def _violate(reason: Reason, message: str) -> NoReturn:
    raise RuleViolation(message, code=reason.value)


def _course(programme: Programme, proposal: Proposal) -> Course:
    course = programme.course(proposal.course_code)
    if course is None:
        _violate(
            Reason.NOT_IN_PROGRAMME,
            f"course {proposal.course_code} is not part of programme {programme.code}",
        )
    return course


def _mapping(catalog: Catalog, programme: Programme, proposal: Proposal, as_of: date) -> Mapping:
    versions = catalog.versions(proposal.mapping_id)
    if not versions:
        _violate(Reason.UNKNOWN_MAPPING, f"there is no mapping {proposal.mapping_id!r}")
    mapping = catalog.mapping_in_force(proposal.mapping_id, as_of)
    if mapping is None:
        spans = ", ".join(
            f"v{m.version} {m.effective_from} to {m.effective_to or 'further notice'}"
            for m in versions
        )
        _violate(
            Reason.MAPPING_NOT_IN_FORCE,
            f"mapping {proposal.mapping_id} has no version in force on {as_of} ({spans})",
        )
    if mapping.programme_code != programme.code or mapping.target(proposal.course_code) is None:
        targets = ", ".join(t.course_code for t in mapping.targets)
        _violate(
            Reason.NOT_IN_PROGRAMME,
            f"mapping {mapping.label} recognises {targets} of programme {mapping.programme_code}, "
            f"not course {proposal.course_code} of programme {programme.code}",
        )
    return mapping


def _sources(holdings: Holdings, proposal: Proposal) -> list[Holding]:
    if not proposal.sources:
        _violate(
            Reason.SOURCE_MISMATCH, f"no source holding given for course {proposal.course_code}"
        )
    if len(set(proposal.sources)) != len(proposal.sources):
        _violate(
            Reason.SOURCE_MISMATCH,
            f"a source holding is listed twice for course {proposal.course_code}",
        )
    sources = []
    for holding_id in proposal.sources:
        holding = holdings.get(holding_id)
        if holding is None:
            _violate(Reason.UNKNOWN_HOLDING, f"the learner has no holding {holding_id!r}")
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
    where = f"course {course.course_code} under mapping {mapping.label}"
    ids = tuple(sorted(h.holding_id for h in sources))
    what_if = any(h.what_if for h in sources)
    if mapping.mode is Mode.CREDIT_RECOGNITION:
        credit = sources[0]
        if len(sources) != 1 or not isinstance(credit, CreditHolding):
            _violate(Reason.SOURCE_MISMATCH, f"{where} takes exactly one course credit")
        chains = [
            chain
            for chain in catalog.graph.articulation_chains(
                credit.institution, credit.course_code, max_depth=max_depth
            )
            if chain[-1].mapping == mapping
        ]
        if not chains:
            _violate(
                Reason.SOURCE_MISMATCH,
                f"{where}: credit in {credit.institution}:{credit.course_code} does not lead to "
                f"this mapping through recognised courses",
            )
        chain, refusal = best_chain(chains, credit, as_of, posted)
        if chain is None:
            _violate(
                refusal.reason if refusal else Reason.SOURCE_MISMATCH,
                f"{where}: {refusal.message if refusal else 'no admissible chain'}",
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
            _violate(Reason.SOURCE_MISMATCH, f"{where} takes certificates, not course credits")
        refusal = certificate_set_refusal(mapping, certificates, as_of, posted)
        if refusal is not None:
            _violate(refusal.reason, f"{where}: {refusal.message}")
        rule = _certificate_rule(mapping, certificates, posted)
        first = certificates[0]
        path = catalog.graph.qualification_path(
            first.qualification_code, first.level, mapping, course
        )
        explanation = joined(
            "{first}; {second}",
            [
                _certificate_met(r, c, mapping, as_of)
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


#: The mode's code as the English text (as the API always printed it), a message id for the pages.
MODE_NAMES = {
    Mode.CERTIFICATE_RECOGNITION: wording("certificate_recognition"),
    Mode.THROUGH_TRAIN: wording("through_train"),
    Mode.CREDIT_RECOGNITION: wording("credit_recognition"),
    Mode.COURSE_RESTRUCTURING: wording("course_restructuring"),
}


def _certificate_met(
    requirement: QualificationRequirement,
    certificate: CertificateHolding,
    mapping: Mapping,
    as_of: date,
) -> Wording:
    if mapping.valid_years:
        return wording(
            "{name} ({code}) level {level} meets level {min_level}, issued {issued}, valid "
            "{years} years",
            name=requirement.name,
            code=requirement.code,
            level=certificate.level,
            min_level=requirement.min_level,
            issued=certificate.issued_for(as_of),
            years=mapping.valid_years,
        )
    return wording(
        "{name} ({code}) level {level} meets level {min_level}, issued {issued}",
        name=requirement.name,
        code=requirement.code,
        level=certificate.level,
        min_level=requirement.min_level,
        issued=certificate.issued_for(as_of),
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


def _check_caps(
    programme: Programme,
    recognitions: Sequence[Recognition],
    certificates: Iterable[CertificateHolding],
    posted: Posted,
) -> None:
    """A cap binds only the quantity the proposal adds to (new credits, new certificates...)."""
    new_credits = sum((r.credits for r in recognitions), Decimal(0))
    new_through_train = sum(
        (r.credits for r in recognitions if r.mode is Mode.THROUGH_TRAIN), Decimal(0)
    )
    new_certificates = {c.holding_id for c in certificates} - posted.certificate_ids
    added = {
        "recognised-credits": new_credits > 0,
        "certificates": bool(new_certificates),
        "through-train-credits": new_through_train > 0,
    }
    for use in cap_usage(
        programme,
        credits=posted.credits + new_credits,
        certificates=len(posted.certificate_ids) + len(new_certificates),
        through_train_credits=posted.through_train_credits + new_through_train,
    ):
        if added[use.name] and use.exceeded:
            _violate(
                Reason.CAP_EXCEEDED,
                f"programme {programme.code} allows at most {use.limit} {use.name.replace('-', ' ')}"
                f" through recognition; this would bring it to {use.used}",
            )
