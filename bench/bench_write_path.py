"""The append path without HTTP: CPU per entry of CreditBank.submit_group and submit_batch.

Run from the repository root:

    .venv/bin/python bench/bench_write_path.py [--groups 20] [--group-size 64] [--batches 4]

Over a fresh SQLite ledger (the accounts tests' world: a provider, a registrar, 50 learners), it
signs ``certificate.issued`` entries first, then times, in this process:

* ``submit_group`` (what the group committer calls for concurrent HTTP writes), ``--groups``
  groups of ``--group-size`` independent submissions;
* ``submit_batch`` (``POST /v1/batch``, the cohort import), ``--batches`` batches of 500.

CPU time (``time.process_time``) is the figure to compare across runs on a shared machine; wall
time is printed beside it. The target is the HTTP one's budget: 1,500 appends/s on one core is
0.67 ms of CPU per append *all in* (HTTP included), so the write path must take well under it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import Row, load, machine, print_table, say  # noqa: E402

from creditbank.accounts.bank import Submission  # noqa: E402
from creditbank.ledger.database import make_engine  # noqa: E402
from tests.accounts.conftest import World, make_world  # noqa: E402

BUDGET_MS = 1000 / 1500  # CPU per append, all in, for 1,500 /s on one core
LEARNERS = 50


def _certificates(world: World, start: int, count: int) -> list[Submission]:
    items = []
    for number in range(start, start + count):
        body = {
            "certificate_id": f"C-{number}",
            "learner_id": f"L-{number % LEARNERS}",
            "qualification_code": "6-18-02-04",
            "level": 4,
            "issued_on": "2024-06-01",
        }
        items.append(Submission(world.sign(world.provider, "certificate.issued", body)))
    return items


def _timed(label: str, runs: list[list[Submission]], submit: object) -> Row:
    cpu, wall = time.process_time(), time.perf_counter()
    for items in runs:
        outcomes = submit(items)  # type: ignore[operator]
        refused = [o for o in outcomes if isinstance(o, Exception)]
        if refused:
            raise SystemExit(f"{label}: refused {refused[0]!r}")
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    entries = sum(len(items) for items in runs)
    per_entry = 1000 * cpu / entries
    return Row(
        f"{label} ({entries:,} entries)",
        f"{per_entry:.3f} ms CPU / entry ({1000 * wall / entries:.3f} ms wall)",
        f"well under {BUDGET_MS:.2f} ms",
        per_entry < BUDGET_MS / 2,
        per_entry,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--group-size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        worlds = make_world(engine)
        world = next(worlds)
        for number in range(LEARNERS):
            world.register_learner(f"L-{number}")
        say("signing the entries ...")
        size, start = args.group_size, 0
        warm = _certificates(world, start, size)
        start += size
        groups = []
        for _ in range(args.groups):
            groups.append(_certificates(world, start, size))
            start += size
        batches = []
        for _ in range(args.batches):
            batches.append(_certificates(world, start, 500))
            start += 500
        world.bank.submit_group(warm)
        say("timing ...")
        before = load()
        rows = [
            _timed(f"submit_group, groups of {size}", groups, world.bank.submit_group),
            _timed("submit_batch, batches of 500", batches, world.bank.submit_batch),
        ]
        worlds.close()
        engine.dispose()
    print(f"machine: {machine()}; load average before {before}, after {load()}")
    print_table(rows)


if __name__ == "__main__":
    main()
