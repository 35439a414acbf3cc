"""The optimal choice among candidate options: a 0-1 integer programme, then tie-breaking.

Choosing which holding uses which mapping, with each course credited once, one certificate per
trade and the programme's caps, is a set-packing problem with knapsack side constraints (NP-hard
in general, small in practice). The *amount* of credit is maximised exactly by the HiGHS MILP
solver (``scipy.optimize.milp``); credits are first turned into whole steps of their common
granularity (0.5 credits, say) so no float decides a credit and the caps' LP bound is reachable.

Variables: ``y[o]`` (option ``o`` is used), and per course ``t[c]`` / ``r[c]`` (credited through a
through-train option / through another option). Constraints: ``t[c] <= sum(y[o] : o a
through-train option covering c)``, likewise ``r[c]``, ``t[c] + r[c] <= 1``; each credit holding in
at most one used option; at most one used option per trade (a certificate is of one trade, so this
also keeps it in one option); the caps on new credits, new certificates and new through-train
credits, net of what is already posted. A through-train block is credited whole (``y[o] <= t[c]``
for each of its courses) and at most one block is used.

Ties (several allocations with the most credit) are then broken deterministically, without
changing the credit: the model is built in canonical order so the solver's answer depends only on
the input, each course is credited through the *preferred* used option that covers it, and a used
option is replaced by a preferred unused one that credits the same courses within every rule.
Preferred means, in order: fewer what-if holdings (real holdings first), fewer holdings, higher
certificate levels (the higher certificate supersedes the lower), earlier canonical position
(mapping_id, version, holding ids). This is a local rule: it settles every tie between
interchangeable sources, not every conceivable tie between different combinations.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from creditbank.mapping.courses import Course, Programme
from creditbank.mapping.holdings import CertificateHolding
from creditbank.mapping.options import Option
from creditbank.mapping.posted import Posted
from creditbank.mapping.rules import credit_cap, through_train_cap
from creditbank.mapping.values import decimal_places

__all__ = ["Allocation", "allocate"]

#: The options used and, for each, the courses it credits.
Allocation = list[tuple[Option, tuple[Course, ...]]]


class _Model:
    """Sparse rows of ``lower <= A x <= upper`` built incrementally."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, terms: Sequence[tuple[int, float]], lower: float, upper: float) -> None:
        row = len(self.lower)
        for col, val in terms:
            self.rows.append(row)
            self.cols.append(col)
            self.vals.append(val)
        self.lower.append(lower)
        self.upper.append(upper)

    def solve(self, costs: np.ndarray) -> Any:
        width = len(costs)
        matrix = csr_array(
            (np.array(self.vals), (np.array(self.rows), np.array(self.cols))),
            shape=(len(self.lower), width),
        )
        result = milp(
            costs,
            integrality=np.ones(width),
            bounds=Bounds(0, 1),
            constraints=LinearConstraint(matrix, np.array(self.lower), np.array(self.upper)),
            options={"mip_rel_gap": 0.0},
        )
        if result.status != 0 or result.x is None:  # pragma: no cover - "nothing" is feasible
            raise RuntimeError(f"the allocation solver failed: {result.message}")
        return result


@dataclass(frozen=True)
class _Limits:
    """What is left of each cap, in credit steps and certificates (None: no cap)."""

    credits: int | None
    certificates: int | None
    through_train: int | None


def _steps(value: Decimal, scale: int, step: int) -> int:
    return int((value * scale).to_integral_value(rounding=ROUND_FLOOR)) // step


def allocate(options: Sequence[Option], programme: Programme, posted: Posted) -> Allocation:
    """The allocation with the most credit, ties broken as the module docstring says."""
    if not options:
        return []
    scale = 10 ** max(decimal_places(c.credits) for o in options for c in o.courses)
    step = math.gcd(*(int(c.credits * scale) for o in options for c in o.courses))

    def left(limit: Decimal | None, used: Decimal) -> int | None:
        return None if limit is None else _steps(max(Decimal(0), limit - used), scale, step)

    limits = _Limits(
        credits=left(credit_cap(programme), posted.credits),
        certificates=None
        if programme.caps.max_certificates is None
        else max(0, programme.caps.max_certificates - len(posted.certificate_ids)),
        through_train=left(through_train_cap(programme), posted.through_train_credits),
    )
    weight = {c.course_code: _steps(c.credits, scale, step) for o in options for c in o.courses}
    chosen, credited = _solve(options, weight, limits, posted)
    return _break_ties(options, chosen, credited, limits, posted)


def _solve(
    options: Sequence[Option], weight: dict[str, int], limits: _Limits, posted: Posted
) -> tuple[list[int], dict[str, bool]]:
    """The options used and the courses credited (code -> through a through-train option?)."""
    n = len(options)
    cover: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for i, option in enumerate(options):
        for course in option.courses:
            cover[(course.course_code, option.is_block)].append(i)
    columns = {key: n + k for k, key in enumerate(sorted(cover))}
    model = _Model()
    costs = np.zeros(n + len(columns))
    for (code, block), col in columns.items():
        costs[col] = -weight[code]
        model.add([(col, 1.0), *((i, -1.0) for i in cover[(code, block)])], -np.inf, 0.0)
        if block and (code, False) in columns:
            model.add([(col, 1.0), (columns[(code, False)], 1.0)], -np.inf, 1.0)
    for group in _exclusive_groups(options):
        model.add([(i, 1.0) for i in group], -np.inf, 1.0)
    blocks_used = [i for i, option in enumerate(options) if option.is_block]
    for i in blocks_used:  # a through-train block is credited whole: y[o] <= t[c] for its courses
        for course in options[i].courses:
            model.add([(i, 1.0), (columns[(course.course_code, True)], -1.0)], -np.inf, 0.0)
    if len(blocks_used) > 1:  # and one block per learner
        model.add([(i, 1.0) for i in blocks_used], -np.inf, 1.0)
    if limits.credits is not None and limits.credits < -costs.sum():
        model.add([(col, -costs[col]) for col in columns.values()], -np.inf, limits.credits)
    if limits.certificates is not None:
        counted = [(i, float(c)) for i, o in enumerate(options) if (c := _new(o, posted))]
        if counted:
            model.add(counted, -np.inf, float(limits.certificates))
    blocks = [(col, -costs[col]) for (_, block), col in columns.items() if block]
    if limits.through_train is not None and blocks:
        model.add(blocks, -np.inf, float(limits.through_train))
    solution = model.solve(costs)
    chosen = [i for i in range(n) if solution.x[i] > 0.5]
    credited = {code: block for (code, block), col in columns.items() if solution.x[col] > 0.5}
    return chosen, credited


def _new(option: Option, posted: Posted) -> int:
    """How many certificates this option adds to the count (those not already counted)."""
    return sum(1 for c in option.certificates if c.holding_id not in posted.certificate_ids)


def _exclusive_groups(options: Sequence[Option]) -> list[list[int]]:
    """Options that exclude each other: same credit holding, or same trade."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, option in enumerate(options):
        for holding in option.holdings:
            if isinstance(holding, CertificateHolding):
                groups[f"trade {holding.qualification_code}"].append(i)
            else:
                groups[f"holding {holding.holding_id}"].append(i)
    return [group for group in groups.values() if len(group) > 1]


def _preference(option: Option, index: int) -> tuple[int, int, int, int]:
    return (
        sum(1 for h in option.holdings if h.what_if),
        len(option.holdings),
        sum(c.level for c in option.certificates),
        index,
    )


def _break_ties(
    options: Sequence[Option],
    chosen: list[int],
    credited: dict[str, bool],
    limits: _Limits,
    posted: Posted,
) -> Allocation:
    """The same credit, sourced from the preferred options (see the module docstring).

    Credits never change here: each credited course keeps its kind (through-train or not). The
    two moves alternate until neither applies; each makes the allocation strictly preferred (fewer
    options, or a preferred option in place of another), so they stop.
    """
    key = {i: _preference(options[i], i) for i in range(len(options))}
    assigned: dict[int, set[str]] = defaultdict(set)
    for code, block in credited.items():
        best = min(
            (i for i in chosen if options[i].is_block == block and _covers(options[i], {code})),
            key=key.__getitem__,
        )
        assigned[best].add(code)
    while _consolidate(options, assigned, key) or _swap(options, assigned, key, limits, posted):
        pass
    return [
        (options[i], tuple(c for c in options[i].courses if c.course_code in assigned[i]))
        for i in sorted(assigned)
    ]


def _consolidate(
    options: Sequence[Option], assigned: dict[int, set[str]], key: dict[int, Any]
) -> bool:
    """Drop the least preferred used option whose courses other used options can all credit."""
    for i in sorted(assigned, key=key.__getitem__, reverse=True):
        others = [j for j in sorted(assigned, key=key.__getitem__) if j != i]
        homes: dict[str, int] = {}
        for code in assigned[i]:
            home = next((j for j in others if _same_kind(options[j], options[i], code)), None)
            if home is None:
                break
            homes[code] = home
        else:
            for code, home in homes.items():
                assigned[home].add(code)
            del assigned[i]
            return True
    return False


def _swap(
    options: Sequence[Option],
    assigned: dict[int, set[str]],
    key: dict[int, Any],
    limits: _Limits,
    posted: Posted,
) -> bool:
    """Replace a used option by a preferred unused one that credits the same courses."""
    for i in sorted(assigned, key=key.__getitem__, reverse=True):
        others = [j for j in assigned if j != i]
        for j in sorted(range(len(options)), key=key.__getitem__):
            if key[j] >= key[i]:
                break
            if j in assigned or options[j].is_block != options[i].is_block:
                continue
            if options[j].is_block and options[j].course_codes != assigned[i]:
                continue  # a block swaps only for a block of exactly the same courses
            if not _covers(options[j], assigned[i]) or _conflicts(options[j], others, options):
                continue
            counted = sum(_new(options[k], posted) for k in [*others, j])
            if limits.certificates is not None and counted > limits.certificates:
                continue
            assigned[j] = assigned.pop(i)
            return True
    return False


def _same_kind(option: Option, other: Option, code: str) -> bool:
    """``option`` can credit ``code`` in place of ``other`` (same through-train kind)."""
    return option.is_block == other.is_block and _covers(option, {code})


def _covers(option: Option, codes: set[str]) -> bool:
    return codes <= option.course_codes


def _conflicts(option: Option, used: list[int], options: Sequence[Option]) -> bool:
    """Shares a holding, or a trade, with an option already used."""
    holdings = {h.holding_id for k in used for h in options[k].holdings}
    trades = {c.qualification_code for k in used for c in options[k].certificates}
    return any(h.holding_id in holdings for h in option.holdings) or any(
        c.qualification_code in trades for c in option.certificates
    )
