"""Recognitions already posted for a learner in a programme, and what they commit.

A new plan or a registrar's proposal must respect what was already recognised: those courses are
credited, those credits and certificates count toward the caps, a holding already used stays bound
to the mapping it was used with, and a certificate of a trade already used can only be topped up by
a strictly higher level. :func:`summarise_posted` derives those facts once; :func:`binding_refusal`
is the rule both the planner and :func:`~creditbank.mapping.evaluation.evaluate` apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from creditbank.mapping.catalog import Catalog
from creditbank.mapping.holdings import CertificateHolding, Holding, Holdings
from creditbank.mapping.mappings import CERTIFICATE_MODES, Mapping, Mode
from creditbank.mapping.rules import Reason, Refusal, Stage
from creditbank.mapping.wording import wording

__all__ = ["Posted", "PostedRecognition", "binding_refusal", "summarise_posted"]


@dataclass(frozen=True)
class PostedRecognition:
    """A recognition already on the learner's account for this programme.

    ``mode`` may be omitted when the mapping is in the catalogue (its mode is looked up there).
    """

    course_code: str
    credits: Decimal
    source_holding_ids: tuple[str, ...]
    mapping_id: str
    mode: Mode | None = None


@dataclass(frozen=True)
class Posted:
    """What the posted recognitions commit, as the rules need it."""

    credited: frozenset[str]
    credits: Decimal
    through_train_credits: Decimal
    certificate_ids: frozenset[str]
    #: holding id -> the mapping_id it was used with
    bound: dict[str, str]
    #: occupation code -> certificates of that trade already used (those found in the holdings)
    used_by_trade: dict[str, tuple[CertificateHolding, ...]]


def summarise_posted(
    catalog: Catalog, holdings: Holdings, already_recognised: Iterable[PostedRecognition]
) -> Posted:
    credited: set[str] = set()
    credits = Decimal(0)
    through_train = Decimal(0)
    certificate_ids: set[str] = set()
    bound: dict[str, str] = {}
    used: dict[str, dict[str, CertificateHolding]] = defaultdict(dict)
    for posted in already_recognised:
        mode = posted.mode
        if mode is None and catalog.versions(posted.mapping_id):
            mode = catalog.versions(posted.mapping_id)[0].mode
        credited.add(posted.course_code)
        credits += posted.credits
        if mode is Mode.THROUGH_TRAIN:
            through_train += posted.credits
        for holding_id in posted.source_holding_ids:
            bound.setdefault(holding_id, posted.mapping_id)
            holding = holdings.get(holding_id)
            if isinstance(holding, CertificateHolding):
                used[holding.qualification_code][holding_id] = holding
            if isinstance(holding, CertificateHolding) or (
                holding is None and mode in CERTIFICATE_MODES
            ):
                certificate_ids.add(holding_id)
    return Posted(
        credited=frozenset(credited),
        credits=credits,
        through_train_credits=through_train,
        certificate_ids=frozenset(certificate_ids),
        bound=bound,
        used_by_trade={code: tuple(by_id.values()) for code, by_id in used.items()},
    )


def binding_refusal(holding: Holding, mapping: Mapping, posted: Posted) -> Refusal | None:
    """Refuse a holding already used with another mapping, or a certificate that cannot top up."""
    bound_to = posted.bound.get(holding.holding_id)
    if bound_to is not None:
        if bound_to != mapping.mapping_id:
            return Refusal(
                Reason.SOURCE_ALREADY_USED,
                wording(
                    "holding {holding} was already used with mapping {bound}; a source serves "
                    "only the mapping it was used with, not {mapping}",
                    holding=holding.holding_id,
                    bound=bound_to,
                    mapping=mapping.mapping_id,
                ),
                Stage.ALLOCATION,
            )
        return None
    if isinstance(holding, CertificateHolding):
        for earlier in posted.used_by_trade.get(holding.qualification_code, ()):
            if earlier.level <= holding.level:
                return Refusal(
                    Reason.SUPERSEDED,
                    wording(
                        "certificate {holding} (level {level}) cannot top up certificate "
                        "{earlier} (level {earlier_level}) already used for this trade: only a "
                        "higher level tops up, levels never stack",
                        holding=holding.holding_id,
                        level=holding.level,
                        earlier=earlier.holding_id,
                        earlier_level=earlier.level,
                    ),
                    Stage.ALLOCATION,
                )
    return None
