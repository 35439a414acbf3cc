"""Planner latency on a synthetic map of 10,000 mappings, and load time of the shipped map.

Run from the repository root:

    .venv/bin/python bench/bench_planner.py [--runs 50] [--seed 20261124]

The synthetic catalogue has 100 programmes of 80 courses; the 10,000 mapping versions are spread
over them in the shipped map's proportions of modes (certificate recognition, many-to-one, through
-train blocks, course restructuring, credit recognition including chains through other programmes,
and second versions). The worker holds 40 items (30 certificates, 10 course credits, 2 of them
what-if) chosen among the trades and courses that map into the target programme, so every holding
competes: the hard case, not the easy one. The figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

from creditbank.mapping import (
    Catalog,
    CertificateHolding,
    Course,
    CourseRequirement,
    CreditHolding,
    Holdings,
    Mapping,
    Mode,
    Programme,
    ProgrammeCaps,
    QualificationRequirement,
    load_catalog,
    plan,
)

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 24)
PROGRAMMES = 100
COURSES = 80
MAPPINGS = 10_000
TRADES = 300
EXTERNAL = 400
TARGET = "P000"


def occupation(i: int) -> str:
    """A synthetic code in the classification's shape (not a real occupation)."""
    return f"6-{50 + i // 100:02d}-{i % 100 // 10:02d}-{i % 10:02d}"


def synthetic_catalog(rng: random.Random) -> Catalog:
    programmes = []
    for p in range(PROGRAMMES):
        code = f"P{p:03d}"
        courses = tuple(
            Course("SOU", f"{code}-C{c:02d}", f"Course {c} of {code}",
                   Decimal(rng.choice(["2", "2.5", "3", "4"])))
            for c in range(COURSES)
        )  # fmt: skip
        total = sum((c.credits for c in courses), Decimal(0))
        caps = ProgrammeCaps(
            max_recognised_share=Decimal("0.6"),
            max_certificates=12,
            max_through_train_share=Decimal("0.5"),
        )
        programmes.append(Programme(code, "SOU", f"Programme {code}", total, caps, courses))
    mappings: list[Mapping] = []
    n = 0
    while len(mappings) < MAPPINGS:
        programme = rng.choice(programmes)
        roll = rng.random()
        mode = Mode.CERTIFICATE_RECOGNITION
        if roll < 0.2:
            mode = Mode.CREDIT_RECOGNITION
        elif roll < 0.25:
            mode = Mode.COURSE_RESTRUCTURING
        elif roll < 0.28:
            mode = Mode.THROUGH_TRAIN
        if mode is Mode.THROUGH_TRAIN:
            pool = list(programme.courses)
            rng.shuffle(pool)
            limit = programme.total_credits * Decimal("0.45")
            targets: list[Course] = []
            for course in pool:
                if sum((t.credits for t in targets), course.credits) <= limit:
                    targets.append(course)
        else:
            targets = rng.sample(list(programme.courses), rng.randint(1, 4))
        sources: tuple[QualificationRequirement | CourseRequirement, ...]
        if mode is Mode.CREDIT_RECOGNITION:
            if rng.random() < 0.3:  # a course of another programme: recognitions chain
                other = rng.choice([p for p in programmes if p.code != programme.code])
                source = rng.choice(other.courses)
                sources = (CourseRequirement("SOU", source.course_code, source.title,
                                             Decimal(rng.choice([60, 70]))),)  # fmt: skip
            else:
                e = rng.randrange(EXTERNAL)
                sources = (CourseRequirement(f"U{e % 20:02d}", f"X{e:04d}", f"External {e}",
                                             Decimal(rng.choice([60, 70, 75]))),)  # fmt: skip
        else:
            count = 2 if rng.random() < 0.1 else 1
            codes = rng.sample(range(TRADES), count)
            sources = tuple(
                QualificationRequirement(occupation(c), f"Trade {c}", rng.randint(3, 5))
                for c in codes
            )
        mapping_id = f"M{n:05d}"
        n += 1
        versions = 2 if rng.random() < 0.05 else 1
        for version in range(1, versions + 1):
            mappings.append(
                Mapping(
                    mapping_id=mapping_id,
                    version=version,
                    mode=mode,
                    provider="Synthetic provider",
                    programme_code=programme.code,
                    effective_from=date(2016 + 4 * (version - 1), 9, 1),
                    effective_to=date(2020, 8, 31) if version < versions else None,
                    valid_years=rng.choice([None, 3, 5, 8]),
                    sources=sources,
                    targets=tuple(targets),
                )
            )
    return Catalog(programmes, mappings[:MAPPINGS])


def worker(catalog: Catalog, rng: random.Random) -> Holdings:
    """40 holdings of trades and courses that lead into the target programme."""
    into = [m for m in catalog.mappings if m.programme_code == TARGET]
    trades = sorted({r.code for m in into for r in m.qualification_requirements})
    courses = sorted({m.source_course.key for m in into if m.source_course is not None})
    certificates = tuple(
        CertificateHolding(
            f"c{i:02d}",
            rng.choice(trades),
            rng.randint(2, 5),
            None if i >= 28 else AS_OF - timedelta(days=rng.randint(0, 6 * 365)),
            what_if=i >= 28,
        )
        for i in range(30)
    )
    credits = tuple(
        CreditHolding(
            f"k{i:02d}",
            *rng.choice(courses),
            Decimal(3),
            Decimal(rng.randint(55, 95)),
            AS_OF - timedelta(days=rng.randint(0, 6 * 365)),
        )
        for i in range(10)
    )
    return Holdings(certificates, credits)


def timed(action: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each run (CPU time shows contention on a busy box)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261124)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    start = time.perf_counter()
    catalog = synthetic_catalog(rng)
    build_ms = (time.perf_counter() - start) * 1000
    holdings = worker(catalog, rng)
    start = time.perf_counter()
    first = plan(catalog, holdings, TARGET, AS_OF)  # builds the graph once
    cold_ms = (time.perf_counter() - start) * 1000
    warm, warm_cpu = timed(lambda: plan(catalog, holdings, TARGET, AS_OF), args.runs)
    shipped, _ = timed(
        lambda: load_catalog(
            ROOT / "data" / "qualification_map.csv", ROOT / "data" / "programmes.csv"
        ),
        20,
    )

    def p95(samples: list[float]) -> float:
        return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]

    table = Table(title="Mapping and planner benchmark")
    for column in ("measure", "figure", "target", ""):
        table.add_column(column)
    median = statistics.median(warm)
    rows = [
        ("planner, median (10k mappings, 40 holdings, 80 courses)", median, 20.0),
        ("planner, p95", p95(warm), None),
        ("planner, median CPU time", statistics.median(warm_cpu), None),
        ("planner, first call (includes building the graph)", cold_ms, None),
        ("synthetic catalogue build + consistency checks", build_ms, None),
        ("load shipped map + programmes, median", statistics.median(shipped), None),
    ]
    for name, figure, target in rows:
        verdict = "" if target is None else ("OK" if figure <= target else "MISS")
        table.add_row(name, f"{figure:.1f} ms", "" if target is None else f"<= {target:.0f} ms",
                      verdict)  # fmt: skip
    console = Console()
    console.print(table)
    console.print(
        f"plan: {len(first.recognitions)} courses, {first.new_credits} credits "
        f"({first.what_if_credits} what-if), {len(first.unused)} holdings unused, caps reached "
        f"{', '.join(first.caps_reached) or 'none'}; runs={args.runs} seed={args.seed}; "
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{len(catalog.mappings)} mapping versions; load average {os.getloadavg()[0]:.1f}"
    )
    sys.exit(0 if median <= 20.0 else 1)


if __name__ == "__main__":
    main()
