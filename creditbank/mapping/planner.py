"""The planner: the most credit a worker's holdings earn toward a programme, and why.

``plan`` finds every admissible option (:mod:`.options`), chooses the optimal allocation
(:mod:`.allocation`), then hands that allocation to :func:`~creditbank.mapping.evaluation.evaluate`
as a registrar's proposal would be: the recognitions it returns, with their explanations, are the
plan. A planner answer the rules would refuse is therefore impossible rather than merely untested.
Every holding left unused gets a reason code and a sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from creditbank.errors import RuleViolation
from creditbank.mapping.catalog import Catalog
from creditbank.mapping.courses import Programme
from creditbank.mapping.evaluation import evaluate
from creditbank.mapping.graph import DEFAULT_MAX_DEPTH
from creditbank.mapping.holdings import Holdings
from creditbank.mapping.mappings import Mode
from creditbank.mapping.options import Candidates, Option, candidate_options
from creditbank.mapping.outcome import Plan, Proposal, Recognition, UnusedHolding
from creditbank.mapping.posted import Posted, PostedRecognition, summarise_posted

if TYPE_CHECKING:
    from creditbank.mapping.allocation import Allocation
from creditbank.mapping.rules import (
    Reason,
    Refusal,
    Stage,
    cap_usage,
    credit_cap,
    through_train_cap,
)
from creditbank.mapping.wording import Wording, wording

__all__ = ["plan"]


def plan(
    catalog: Catalog,
    holdings: Holdings,
    programme_code: str,
    as_of: date,
    *,
    already_recognised: Iterable[PostedRecognition] = (),
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Plan:
    """The allocation that recognises the most credits under every rule and cap on ``as_of``."""
    programme = catalog.programme(programme_code)
    already = tuple(already_recognised)
    posted = summarise_posted(catalog, holdings, already)
    candidates = candidate_options(catalog, holdings, programme, as_of, posted, max_depth=max_depth)
    # Imported here: the solver pulls in scipy and numpy (about 65 MB and half a second per
    # process), which a server worker that never plans should not pay for.
    from creditbank.mapping.allocation import allocate

    allocation = allocate(candidates.options, programme, posted)
    proposals = [
        Proposal(course.course_code, option.mapping.mapping_id, option.holding_ids)
        for option, courses in allocation
        for course in courses
    ]
    try:
        recognitions = evaluate(
            catalog,
            holdings,
            programme_code,
            as_of,
            proposals,
            already_recognised=already,
            max_depth=max_depth,
        )
    except RuleViolation as exc:  # pragma: no cover - would be a planner bug
        raise RuntimeError(f"the planner chose an allocation the rules refuse: {exc}") from exc
    order = {course.course_code: i for i, course in enumerate(programme.courses)}
    recognitions.sort(key=lambda r: order[r.course.course_code])
    new_credits = sum((r.credits for r in recognitions), Decimal(0))
    certificates = posted.certificate_ids | {
        h.holding_id for option, _ in allocation for h in option.certificates
    }
    caps = cap_usage(
        programme,
        credits=posted.credits + new_credits,
        certificates=len(certificates),
        through_train_credits=posted.through_train_credits
        + sum((r.credits for r in recognitions if r.mode is Mode.THROUGH_TRAIN), Decimal(0)),
    )
    unused, blocked = _unused(holdings, candidates, allocation, recognitions, programme, posted)
    credited = posted.credited | {r.course.course_code for r in recognitions}
    return Plan(
        programme_code=programme.code,
        as_of=as_of,
        programme_credits=programme.total_credits,
        recognitions=tuple(recognitions),
        unused=tuple(unused),
        already_recognised=posted.credits,
        courses_missing=tuple(c for c in programme.courses if c.course_code not in credited),
        caps=caps,
        caps_reached=tuple(c.name for c in caps if c.reached or c.name in blocked),
    )


def _unused(
    holdings: Holdings,
    candidates: Candidates,
    allocation: Allocation,
    recognitions: list[Recognition],
    programme: Programme,
    posted: Posted,
) -> tuple[list[UnusedHolding], set[str]]:
    """Each unused holding with its reason, and the caps that stopped one."""
    used = {h.holding_id: option for option, _ in allocation for h in option.holdings}
    options_of: dict[str, list[Option]] = {}
    for option in candidates.options:
        for member in option.holdings:
            options_of.setdefault(member.holding_id, []).append(option)
    unused: list[UnusedHolding] = []
    blocked: set[str] = set()
    # Holdings explained by the same options (stand-ins of one kept holding) share one answer:
    # computing it per holding made a 3,000-holding request quadratic.
    explained: dict[tuple[int, ...], Refusal] = {}
    for holding in sorted(holdings, key=lambda h: h.holding_id):
        if holding.holding_id in used:
            continue
        refusal = candidates.refusals.get(holding.holding_id)
        if refusal is None:
            own = options_of.get(holding.holding_id) or options_of.get(
                candidates.stand_ins.get(holding.holding_id, ""), []
            )
            key = tuple(id(option) for option in own)
            if key not in explained:
                explained[key] = _why_not_chosen(own, used, recognitions, programme, posted)
            refusal = explained[key]
        if refusal.cap is not None:
            blocked.add(refusal.cap)
        unused.append(
            UnusedHolding(holding.holding_id, refusal.reason, refusal.wording, holding.what_if)
        )
    return unused, blocked


def _why_not_chosen(
    own: list[Option],
    used: dict[str, Option],
    recognitions: list[Recognition],
    programme: Programme,
    posted: Posted,
) -> Refusal:
    """Why none of a holding's admissible options made it into the optimal allocation."""
    credited = posted.credited | {r.course.course_code for r in recognitions}
    new_credits = sum((r.credits for r in recognitions), Decimal(0))
    new_through_train = sum(
        (r.credits for r in recognitions if r.mode is Mode.THROUGH_TRAIN), Decimal(0)
    )
    certificates_used = posted.certificate_ids | {
        c.holding_id for option in used.values() for c in option.certificates
    }
    trade_users = {h.qualification_code: h for option in used.values() for h in option.certificates}

    blocks = [o for o in used.values() if o.is_block]

    def blocker(option: Option) -> Refusal:
        if option.is_block:
            block = _block_blocker(option, blocks, credited)
            if block is not None:
                return block
        for certificate in option.certificates:
            other = trade_users.get(certificate.qualification_code)
            if other is not None:
                return Refusal(
                    Reason.SUPERSEDED,
                    wording(
                        "only one certificate of trade {code} counts and certificate {other} "
                        "(level {level}) is used",
                        code=certificate.qualification_code,
                        other=other.holding_id,
                        level=other.level,
                    ),
                    Stage.ALLOCATION,
                )
        for partner in option.holdings:
            if partner.holding_id in used:
                return Refusal(
                    Reason.SOURCE_ALREADY_USED,
                    wording(
                        "mapping {mapping} also needs {partner}, which is used with mapping "
                        "{other}",
                        mapping=option.mapping.label,
                        partner=partner.holding_id,
                        other=used[partner.holding_id].mapping.label,
                    ),
                    Stage.ALLOCATION,
                )
        free = [c for c in option.courses if c.course_code not in credited]
        if not free:
            return Refusal(
                Reason.COURSE_ALREADY_CREDITED,
                wording(
                    "the courses of mapping {mapping} ({courses}) are credited already",
                    mapping=option.mapping.label,
                    courses=", ".join(c.course_code for c in option.courses),
                ),
                Stage.ALLOCATION,
            )
        smallest = (  # a through-train block adds all of its credits or none
            sum((c.credits for c in option.courses), Decimal(0))
            if option.is_block
            else min(c.credits for c in free)
        )
        limit = credit_cap(programme)
        if limit is not None and posted.credits + new_credits + smallest > limit:
            return _cap("recognised-credits", wording("{limit} credits", limit=limit), option)
        added = [c for c in option.certificates if c.holding_id not in certificates_used]
        most = programme.caps.max_certificates
        if most is not None and added and len(certificates_used) + len(added) > most:
            return _cap("certificates", wording("{most} certificates", most=most), option)
        limit = through_train_cap(programme)
        if (
            option.mapping.mode is Mode.THROUGH_TRAIN
            and limit is not None
            and posted.through_train_credits + new_through_train + smallest > limit
        ):
            return _cap(
                "through-train-credits",
                wording("{limit} through-train credits", limit=limit),
                option,
            )
        raise RuntimeError(  # pragma: no cover - contradicts optimality
            f"option {option.mapping.label} could still add credit; the allocation is not optimal"
        )

    best = max(
        own,
        key=lambda o: sum(
            (c.credits for c in o.courses if c.course_code not in credited), Decimal(0)
        ),
    )
    return blocker(best)


def _block_blocker(
    option: Option, blocks: list[Option], credited: AbstractSet[str]
) -> Refusal | None:
    """Why a through-train block stays out: another block is used, or part of it is credited."""
    other = next((b for b in blocks if b.mapping.label != option.mapping.label), None)
    if other is not None:
        return _cap(
            "through-train-credits",
            wording("one block ({mapping} is used)", mapping=other.mapping.label),
            option,
        )
    taken = sorted(option.course_codes & credited)
    if taken:
        return Refusal(
            Reason.BLOCK_INCOMPLETE,
            wording(
                "through-train block {mapping} is recognised whole, and {courses} credit more "
                "through other mappings",
                mapping=option.mapping.label,
                courses=", ".join(taken),
            ),
            Stage.ALLOCATION,
        )
    return None


def _cap(name: str, what: Wording, option: Option) -> Refusal:
    return Refusal(
        Reason.CAP_EXCEEDED,
        wording(
            "the programme allows at most {what} through recognition, so mapping {mapping} "
            "cannot add more",
            what=what,
            mapping=option.mapping.label,
        ),
        Stage.ALLOCATION,
        cap=name,
    )
