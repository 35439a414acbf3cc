"""The checks over a whole proposed conversion: one through-train block, whole, and the caps.

Part of :func:`~creditbank.mapping.evaluation.evaluate`, which checks each proposal on its own
first; these see all of them together with what is already recognised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import NoReturn

from creditbank.errors import RuleViolation
from creditbank.mapping.courses import Programme
from creditbank.mapping.explanations import CAP_NAMES
from creditbank.mapping.holdings import CertificateHolding
from creditbank.mapping.mappings import Mapping, Mode
from creditbank.mapping.outcome import Recognition
from creditbank.mapping.posted import Posted
from creditbank.mapping.rules import Reason, cap_usage
from creditbank.mapping.wording import Wording, wording

__all__ = ["check_blocks", "check_caps", "violate"]


def violate(reason: Reason, said: Wording) -> NoReturn:
    """Refuse with ``said`` (English in the message, the sentence beside it for the pages)."""
    raise RuleViolation(said.text, code=reason.value, sentence=said)


def check_blocks(
    programme: Programme,
    blocks: dict[str, Mapping],
    recognitions: Sequence[Recognition],
    posted: Posted,
) -> None:
    """A through-train block (直通车) is recognised whole, once, within the programme's bounds."""
    if not blocks:
        return
    if len(blocks) > 1 or posted.through_train_credits > 0:
        violate(
            Reason.CAP_EXCEEDED,
            wording(
                "programme {programme} recognises one through-train block per learner; this "
                "proposes {blocks}",
                programme=programme.code,
                blocks=", ".join(sorted(blocks)),
            )
            if len(blocks) > 1
            else wording(
                "programme {programme} recognises one through-train block per learner; {credits} "
                "credits of a block are already recognised",
                programme=programme.code,
                credits=posted.through_train_credits,
            ),
        )
    mapping = next(iter(blocks.values()))
    got = {r.course.course_code for r in recognitions if r.mapping_id == mapping.mapping_id}
    missing = [t.course_code for t in mapping.targets if t.course_code not in got]
    if missing:
        violate(
            Reason.BLOCK_INCOMPLETE,
            wording(
                "through-train block {mapping} is recognised whole or not at all; {missing} "
                "missing / 直通车课程块须整体认定",
                mapping=mapping.label,
                missing=", ".join(missing),
            ),
        )
    lower = programme.caps.through_train_shares[0] * programme.total_credits
    if mapping.target_credits < lower:
        violate(
            Reason.BLOCK_INCOMPLETE,
            wording(
                "through-train block {mapping} carries {credits} credits, less than the {lower} "
                "(lower share) programme {programme} requires of a block",
                mapping=mapping.label,
                credits=mapping.target_credits,
                lower=lower,
                programme=programme.code,
            ),
        )


def check_caps(
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
            violate(
                Reason.CAP_EXCEEDED,
                wording(
                    "programme {programme} allows at most {limit} {cap} through recognition; "
                    "this would bring it to {used}",
                    programme=programme.code,
                    limit=use.limit,
                    cap=CAP_NAMES[use.name],
                    used=use.used,
                ),
            )
