"""Learner index (sparse Merkle tree) figures: build, root, and map proof time at scale.

Run: ``python bench/bench_learner_index.py [--learners 100000] [--entries 1000000]``.
Entries are spread over the learners (as a log of that many learner entries would), then the
median proof generation and verification times are measured over 2,000 random learners.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Row, load, machine, print_table, say  # noqa: E402

from creditbank.ledger.learner_index import LearnerIndex, verify_map_proof  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(11)
    names = [f"L{i:07d}" for i in range(args.learners)]
    index = LearnerIndex()
    say(f"recording {args.entries} entries over {args.learners} learners ...")
    started = time.perf_counter()
    for position in range(args.entries):
        learner = names[position % args.learners]
        index.record(learner, position, hashlib.sha256(position.to_bytes(8, "big")).digest())
    recorded = time.perf_counter() - started
    started = time.perf_counter()
    root = index.root()
    rooted = time.perf_counter() - started
    proofs, checks = [], []
    for learner in rng.sample(names, min(args.samples, len(names))):
        t0 = time.perf_counter()
        value, proof = index.prove(learner)
        t1 = time.perf_counter()
        verify_map_proof(root, learner, value, proof)
        t2 = time.perf_counter()
        proofs.append(t1 - t0)
        checks.append(t2 - t1)
    proof_ms = statistics.median(proofs) * 1000
    rows = [
        Row("record entries (per second)", f"{args.entries / recorded:,.0f}", "", None),
        Row("root after all entries (s)", f"{rooted:.2f}", "", None),
        Row("map proof, median (ms)", f"{proof_ms:.3f}", "<= 2 ms", proof_ms <= 2.0),
        Row("map proof verify, median (ms)", f"{statistics.median(checks) * 1000:.3f}", "", None),
    ]
    print(f"machine: {machine()}; load {load()} (shared by 7 engineers)")
    print(f"learners {args.learners}, entries {args.entries}")
    print_table(rows)


if __name__ == "__main__":
    main()
