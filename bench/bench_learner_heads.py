"""The first-write stall of a process on a big log: replaying every leaf vs loading stored heads.

Run: ``.venv/bin/python bench/bench_learner_heads.py [--sizes 100000 1000000]``.

Each process rebuilds its learner index (per-learner chain heads and the sparse Merkle map) before
its first append. Before issue 11's follow-up it replayed every stored leaf
(:func:`~creditbank.ledger.chain.replay_chains`, the code path the old ``catch_up`` ran); now it
loads one stored head per learner and checks the root against the latest index entry
(:meth:`~creditbank.ledger.chain.LearnerChains.catch_up`). Both are timed here on the same SQLite
ledger (``bench/results/learner-heads-<n>.db``, built once with the log's own batch path: signed
``credit.earned`` entries, one learner in ten, batches of 1,000, each with its index entry), and
then the catch-up of a process after another appended one more batch (each run leaves the ledger
one batch longer). No target is set by the issue; the point is O(learners), not O(entries).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import RESULTS, make_signed  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from report import Row, load, machine, print_table, say  # noqa: E402

from creditbank.ledger.chain import INDEX_ENTRY_TYPE, LearnerChains, replay_chains  # noqa: E402
from creditbank.ledger.checkpoint import NoteSigner  # noqa: E402
from creditbank.ledger.database import make_engine  # noqa: E402
from creditbank.ledger.entry import Entry, SignedEntry, sign_entry  # noqa: E402
from creditbank.ledger.learner_index import LearnerIndex  # noqa: E402
from creditbank.ledger.log import Log  # noqa: E402
from creditbank.ledger.sql import SqlLogStore, create_log_schema  # noqa: E402

ORIGIN = "bench.creditbank.example/log"
BATCH = 1000
CHUNK = 50_000  # entries signed at a time (a million signed entries do not fit in memory)
_SYSTEM = Ed25519PrivateKey.generate()


def _index_entry(body: dict[str, Any], now: datetime) -> SignedEntry:
    entry = Entry.create(
        type=INDEX_ENTRY_TYPE,
        actor="system",
        nonce=f"learner-index-{body['tree_size']}",
        claimed_at=now,
        body=body,
    )
    return sign_entry(entry, _SYSTEM)


def _append(log: Log, signed: list[SignedEntry], learners: int, start: int) -> None:
    with log.batch(now=datetime.now(UTC)) as batch:
        names = [f"L-{(start + i) % learners:07d}" for i in range(len(signed))]
        batch.add_many(signed, learners=names)


def ledger(n: int, signer: NoteSigner) -> SqlLogStore:
    """A chained SQLite ledger of about ``n`` entries (plus index entries), built once."""
    path = RESULTS / f"learner-heads-{n}.db"
    done = Path(f"{path}.done")
    store = SqlLogStore(make_engine(f"sqlite:///{path}"))
    if done.exists():
        return store
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    create_log_schema(store.engine)
    learners = max(1, n // 10)
    with Log.open(store, origin=ORIGIN, signer=signer) as log:
        log.chains = LearnerChains(_index_entry)
        log.register_key(now=datetime.now(UTC))
        for lo in range(0, n, CHUNK):
            say(f"building: entries {lo:,} .. {min(n, lo + CHUNK):,} of {n:,}")
            signed = make_signed(min(CHUNK, n - lo), start=lo)
            for i in range(0, len(signed), BATCH):
                _append(log, signed[i : i + BATCH], learners, lo + i)
    done.touch()
    return store


def _timed(run: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench(n: int) -> list[Row]:
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    store = ledger(n, signer)
    size = store.size()
    heads = len(store.learner_heads(0))

    def replay() -> None:
        index = LearnerIndex()
        replay_chains(store.leaves(0, size), index)
        index.root()

    fresh = LearnerChains(_index_entry)

    def load_heads() -> None:
        fresh.catch_up(store.leaves, store.learner_heads, size)
        assert fresh.published is not None and fresh.published.entry_index is not None

    say(f"{size:,} entries, {heads:,} learners: replaying every leaf (before) ...")
    before = _timed(replay)
    say("loading the stored heads (after) ...")
    after = _timed(load_heads)
    # Another process appends one batch; this one catches up from the heads that moved.
    with Log.open(store, origin=ORIGIN, signer=signer) as other:
        other.chains = LearnerChains(_index_entry)
        _append(other, make_signed(BATCH, start=10**9 + size), max(1, n // 10), size)
    grown = store.size()
    caught = _timed(lambda: fresh.catch_up(store.leaves, store.learner_heads, grown))
    assert fresh.published is not None and fresh.published.tree_size == grown
    store.engine.dispose()
    ratio = before[0] / after[0]
    label = f"{size:,} entries, {heads:,} learners"
    say(f"{label}: measured at load {load()}")
    return [
        Row(
            f"{label}: before, replay every leaf (s wall / CPU)",
            f"{before[0]:.2f} / {before[1]:.2f}",
            "-",
            None,
        ),
        Row(
            f"{label}: after, load stored heads (s wall / CPU)",
            f"{after[0]:.2f} / {after[1]:.2f}",
            "-",
            None,
        ),
        Row(f"{label}: speed-up", f"{ratio:.0f}x", "-", None),
        Row(
            f"{label}: catch up after another process's batch of {BATCH} (ms)",
            f"{caught[0] * 1000:.1f}",
            "-",
            None,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    rows = [row for n in args.sizes for row in bench(n)]
    print(f"machine: {machine()}; load {load()}")
    print_table(rows)


if __name__ == "__main__":
    main()
