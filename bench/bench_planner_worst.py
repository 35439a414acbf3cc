"""The worst plan request the API accepts (issue 9, item 3): <= 1 s on the 2-core machine.

Run from the repository root:

    .venv/bin/python bench/bench_planner_worst.py [--runs 5] [--body-bytes 262144]

``POST /v1/learners/{id}/plan`` takes a what-if holdings document inside a body of at most
``max_body_bytes`` (256 KiB by default), so the largest request holds about 3,000 what-if holdings.
The cases, each timed from the JSON document through ``parse_holdings`` and ``plan`` (what the
route does besides reading the learner's own holdings):

* ``attack-160x160``: the reported attack, 160 what-if certificates of 6-18-01-01 level 4 and 160 of
  6-18-01-02 level 4 toward SOU-CNC (31.6 s before the fix);
* ``fill-<programme>``: the body filled to the limit with what-if certificates of every trade that
  maps into the programme, at every level, and course credits of every source course that reaches
  it (directly or through a chain), round-robin: the most options and refusals a request can make.
  The worst of these is named in the output.

scipy is imported before timing (a serving process pays that once, at its first plan).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Row, load, machine, print_table, say  # noqa: E402

from creditbank.mapping import Catalog, Mode, load_catalog, parse_holdings, plan  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 24)
TARGET_MS = 1000.0


def attack() -> dict[str, Any]:
    return {
        "certificates": [
            {"holding_id": f"{p}{i}", "qualification_code": code, "level": 4, "what_if": True}
            for p, code in (("t", "6-18-01-01"), ("m", "6-18-01-02"))
            for i in range(160)
        ]
    }


def filled(catalog: Catalog, programme: str, budget: int) -> dict[str, Any]:
    """What-if holdings aimed at ``programme``, round-robin, until the body would pass ``budget``."""
    trades = sorted(
        {
            q.code
            for m in catalog.mappings
            if m.programme_code == programme and m.mode is not Mode.CREDIT_RECOGNITION
            for q in m.qualification_requirements
        }
    )
    sources = sorted({m.source_course.key for m in catalog.mappings if m.source_course is not None})
    items: list[tuple[str, dict[str, Any]]] = []
    document: dict[str, Any] = {"certificates": [], "credits": []}
    size, i = len(json.dumps({"programme_code": programme, "what_if": document})), 0
    while True:
        if i % 3 != 2 and trades:
            trade = trades[i % len(trades)]
            item = {"holding_id": f"c{i}", "qualification_code": trade,
                    "level": 1 + i % 5, "what_if": True}  # fmt: skip
            kind = "certificates"
        else:
            institution, course = sources[i % len(sources)]
            item = {"holding_id": f"k{i}", "institution": institution, "course_code": course,
                    "credits": "4", "grade": "90", "what_if": True}  # fmt: skip
            kind = "credits"
        size += len(json.dumps(item)) + 2
        if size > budget:
            break
        items.append((kind, item))
        i += 1
    for kind, item in items:
        document[kind].append(item)
    return document


def timed(catalog: Catalog, programme: str, document: dict[str, Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        holdings = parse_holdings(json.loads(json.dumps(document)))
        plan(catalog, holdings, programme, AS_OF)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--body-bytes", type=int, default=256 * 1024)
    args = parser.parse_args()
    catalog = load_catalog(
        ROOT / "data" / "qualification_map.csv", ROOT / "data" / "programmes.csv"
    )
    import scipy.optimize  # noqa: F401  (paid once per process, not per request)

    cases: list[tuple[str, str, dict[str, Any]]] = [("attack-160x160", "SOU-CNC", attack())]
    for programme in catalog.programmes:
        cases.append(
            (f"fill-{programme.code}", programme.code, filled(catalog, programme.code,
                                                              args.body_bytes))
        )  # fmt: skip
    rows, worst = [], ("", 0.0)
    for name, programme, document in cases:
        count = len(document.get("certificates", [])) + len(document.get("credits", []))
        say(f"{name}: {count} what-if holdings")
        samples = timed(catalog, programme, document, args.runs)
        figure = statistics.median(samples)
        worst = max(worst, (name, figure), key=lambda pair: pair[1])
        rows.append(
            Row(
                f"{name} ({count} holdings), median of {args.runs}",
                f"{figure:.0f} ms (slowest {max(samples):.0f})",
                f"<= {TARGET_MS:.0f} ms",
                figure <= TARGET_MS,
            )
        )
    print(f"machine: {machine()}; load {load()} (shared by 7 engineers)")
    print_table(rows, first="case")
    print(f"worst case: {worst[0]} at {worst[1]:.0f} ms (median)")
    sys.exit(0 if all(r.ok for r in rows) else 1)


if __name__ == "__main__":
    main()
