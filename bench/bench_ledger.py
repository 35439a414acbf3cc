"""Ledger benchmarks of issue 2: append rate, proof latency, audit rate, Merkle vs pymerkle.

Run from the repository root::

    .venv/bin/python bench/bench_ledger.py            # full: proofs up to 1M entries, 1M audit
    .venv/bin/python bench/bench_ledger.py --quick    # stops at 100k entries

Every figure is printed beside its target with OK or MISS; targets are the issue's and are never
adjusted here. Ledgers of 10k, 100k and 1M signed entries are built once into
``bench/results/ledger-<n>.db`` (gitignored) and reused; delete them to rebuild. A JSON copy of the
table goes to ``bench/results/ledger-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pymerkle import InmemoryTree
from report import CORES, Row, load, machine, print_table, say, warm_page_cache

from creditbank.ledger import merkle, merkle_verify
from creditbank.ledger.audit import audit_log
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import Entry, SignedEntry, sign_entry
from creditbank.ledger.log import Log
from creditbank.ledger.sql import SqlLogStore, create_log_schema

RESULTS = Path(__file__).resolve().parent / "results"
ORIGIN = "bench.creditbank.example/log"
BATCH = 1000


# --- entries -----------------------------------------------------------------------------------


def make_signed(n: int, *, actors: int = 20, start: int = 0) -> list[SignedEntry]:
    """``n`` realistic signed ``credit.earned`` entries from a few providers (signed in threads)."""
    keys = [Ed25519PrivateKey.generate() for _ in range(actors)]
    claimed = datetime(2026, 11, 24, 8, tzinfo=UTC)

    def sign_range(lo: int, hi: int) -> list[SignedEntry]:
        out = []
        for i in range(lo, hi):
            actor = i % actors
            entry = Entry.create(
                type="credit.earned",
                actor=f"provider-{actor:03d}",
                nonce=f"{start + i:012d}-{secrets.token_hex(6)}",
                body={
                    "learner": f"L-{secrets.token_hex(8)}",
                    "certificate": f"CERT-2026-{i:07d}",
                    "course": {"institution": "OU-KR", "code": f"VOC{i % 389:04d}"},
                    "credits": "3.0",
                    "mapping": f"MAP-{i % 1201:05d}",
                },
                claimed_at=claimed + timedelta(seconds=i),
            )
            out.append(sign_entry(entry, keys[actor]))
        return out

    step = max(1, n // (4 * CORES))
    with ThreadPoolExecutor(CORES) as pool:
        parts = pool.map(lambda lo: sign_range(lo, min(n, lo + step)), range(0, n, step))
        return [entry for part in parts for entry in part]


def fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


# --- 1. bulk append vs the physical limit -------------------------------------------------------


def verify_rate(signed: Sequence[SignedEntry]) -> float:
    """Ed25519 verifications per second on all cores, nothing else (keys and bytes ready)."""
    keys: dict[str, Ed25519PublicKey] = {}
    jobs = []
    for item in signed:
        key = keys.get(item.public_key)
        if key is None:
            raw = base64.b64decode(item.public_key)
            key = keys[item.public_key] = Ed25519PublicKey.from_public_bytes(raw)
        jobs.append((key, base64.b64decode(item.signature), item.entry.signed_message))

    def run(part: Sequence[tuple[Ed25519PublicKey, bytes, bytes]]) -> None:
        for key, sig, message in part:
            key.verify(sig, message)

    step = max(1, len(jobs) // (8 * CORES))
    parts = [jobs[i : i + step] for i in range(0, len(jobs), step)]
    with ThreadPoolExecutor(CORES) as pool:
        started = time.perf_counter()
        list(pool.map(run, parts))
        return len(jobs) / (time.perf_counter() - started)


def bench_append(n: int) -> list[Row]:
    say(f"append: signing {n} entries ...")
    signed = make_signed(n)
    url = fresh_sqlite(RESULTS / "append.db")
    engine = make_engine(url)
    create_log_schema(engine)
    store = SqlLogStore(engine)
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    say(f"append: {n} entries in batches of {BATCH} into SQLite (file, WAL) ...")
    with Log.open(store, origin=ORIGIN, signer=signer) as log:
        log.register_key(now=datetime.now(UTC))
        started = time.perf_counter()
        for i in range(0, n, BATCH):
            log.append(signed[i : i + BATCH], now=datetime.now(UTC))
        elapsed = time.perf_counter() - started
    assert store.size() == n
    engine.dispose()
    rate = n / elapsed
    say("append: Ed25519 verification alone on all cores ...")
    limit = max(verify_rate(signed) for _ in range(2))
    ratio = rate / limit
    return [
        Row(
            f"bulk append, SQLite WAL, {BATCH}/batch, signatures verified ({n:,} entries)",
            f"{rate:,.0f} entries/s",
            ">= 10,000 entries/s",
            rate >= 10_000,
        ),
        Row(
            f"Ed25519 verification alone, {CORES} threads (the physical limit)",
            f"{limit:,.0f} verifications/s",
            "-",
            None,
            limit,
        ),
        Row("append rate / physical limit", f"{ratio:.2f}", ">= 0.5", ratio >= 0.5),
    ]


# --- cached ledgers ----------------------------------------------------------------------------


def cached_ledger(n: int) -> str:
    """``bench/results/ledger-<n>.db``: n signed entries; built once (atomically) and reused."""
    path = RESULTS / f"ledger-{n}.db"
    if path.exists():
        engine = make_engine(f"sqlite:///{path}")
        try:
            if SqlLogStore(engine).size() == n:
                return f"sqlite:///{path}"
        finally:
            engine.dispose()
    building = RESULTS / f"ledger-{n}.building.db"
    engine = make_engine(fresh_sqlite(building))
    create_log_schema(engine)
    store = SqlLogStore(engine)
    signer = NoteSigner(ORIGIN, Ed25519PrivateKey.generate())
    started = time.perf_counter()
    chunk = 50_000
    with Log.open(store, origin=ORIGIN, signer=signer) as log:
        log.register_key(now=datetime.now(UTC))
        for lo in range(0, n, chunk):
            signed = make_signed(min(chunk, n - lo), start=lo)
            for i in range(0, len(signed), BATCH):
                log.append(signed[i : i + BATCH], now=datetime.now(UTC))
            say(f"  built {lo + len(signed):,}/{n:,} ({time.perf_counter() - started:.0f} s)")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    os.replace(building, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{building}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


# --- 2. proof latency --------------------------------------------------------------------------


def latencies(call: Callable[[int], object], args: Sequence[int]) -> tuple[float, float]:
    """Median and p99 in milliseconds."""
    for arg in args[:50]:
        call(arg)  # warm caches and the connection pool
    times = []
    for arg in args:
        started = time.perf_counter_ns()
        call(arg)
        times.append((time.perf_counter_ns() - started) / 1e6)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def bench_proofs(sizes: Sequence[int], samples: int = 1000) -> list[Row]:
    rows = []
    for n in sizes:
        say(f"proofs: ledger of {n:,} ...")
        url = cached_ledger(n)
        warm_page_cache(RESULTS / f"ledger-{n}.db")
        engine = make_engine(url)
        store = SqlLogStore(engine)
        log = Log(store, origin=ORIGIN)
        rng = random.Random(n)
        indexes = [rng.randrange(n) for _ in range(samples)]
        olds = [rng.randrange(1, n) for _ in range(samples)]
        root = log.root()
        for index in indexes[:20]:  # the timed code returns proofs that verify
            data = next(store.leaves(index, index + 1)).data
            proof = log.inclusion_proof(index)
            merkle_verify.verify_inclusion(merkle.leaf_hash(data), index, n, proof, root)
        for old in olds[:20]:
            merkle_verify.verify_consistency(
                old, n, log.root(old), root, log.consistency_proof(old)
            )
        inc = latencies(log.inclusion_proof, indexes)
        con = latencies(log.consistency_proof, olds)
        engine.dispose()
        for kind, (median, p99) in (("inclusion", inc), ("consistency", con)):
            target = n == 1_000_000
            rows.append(
                Row(
                    f"{kind} proof at {n:,} entries, SQLite, page cache warm (median / p99)",
                    f"{median:.3f} / {p99:.3f} ms",
                    "<= 1 ms median" if target else "-",
                    median <= 1.0 if target else None,
                )
            )
    return rows


# --- 3. full audit -----------------------------------------------------------------------------


def bench_audit(n: int, workers: int = 2, limit: float | None = None) -> list[Row]:
    """Audit a cached ledger; ``limit`` (verifications/s on all cores) gives the floor."""
    url = cached_ledger(n)
    say(f"audit: {n:,} entries with {workers} worker processes ...")
    engine = make_engine(url)
    started = time.perf_counter()
    report = audit_log(SqlLogStore(engine), origin=ORIGIN, workers=workers)
    elapsed = time.perf_counter() - started
    engine.dispose()
    assert report.tree_size == n
    rate = n / elapsed
    rows = [
        Row(
            f"full audit_log, {n:,} entries, workers={workers} "
            f"({report.checkpoints_checked:,} checkpoints)",
            f"{elapsed:.1f} s ({rate:,.0f} entries/s)",
            "1M in <= 60 s" if n == 1_000_000 else "-",
            elapsed <= 60 if n == 1_000_000 else None,
        )
    ]
    if limit:
        floor = 1_000_000 / limit
        rows.append(
            Row(
                "  floor: 1M Ed25519 verifications alone at the physical limit",
                f"{floor:.0f} s",
                "-",
                None,
            )
        )
    if n != 1_000_000:
        projected = 1_000_000 / rate
        rows.append(
            Row("  projected full audit of 1M", f"{projected:.0f} s", "<= 60 s", projected <= 60)
        )
    return rows


# --- 4. Merkle: ours vs pymerkle ---------------------------------------------------------------


def bench_merkle(n: int, proofs: int = 1000) -> list[Row]:
    say(f"merkle: {n:,} leaves, root, {proofs} inclusion proofs; ours and pymerkle ...")
    leaves = [b"leaf %d" % i for i in range(n)]
    rng = random.Random(7)
    indexes = [rng.randrange(n) for _ in range(proofs)]

    def ours() -> bytes:
        tree = merkle.MemoryTree()
        for leaf in leaves:
            tree.append(leaf)
        root = tree.root()
        for index in indexes:
            tree.inclusion_proof(index)
        return root

    def compact() -> bytes:
        table: dict[merkle.NodeId, bytes] = {}
        tree = merkle.CompactRange()
        for leaf in leaves:
            table.update(tree.append(merkle.leaf_hash(leaf)))
        root = tree.root()
        for index in indexes:
            merkle.inclusion_proof_from_nodes(index, n, table.__getitem__)
        return root

    def theirs() -> bytes:
        tree = InmemoryTree(algorithm="sha256")
        for leaf in leaves:
            tree.append_entry(leaf)
        root: bytes = tree.get_root()
        for index in indexes:
            tree.prove_inclusion(index + 1, n)  # pymerkle counts from one
        return root

    def best(run: Callable[[], bytes]) -> tuple[float, bytes]:
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            root = run()
            timings.append(time.perf_counter() - started)
        return min(timings), root

    t_ours, r_ours = best(ours)
    t_compact, r_compact = best(compact)
    t_theirs, r_theirs = best(theirs)
    assert r_ours == r_compact == r_theirs == merkle.root_hash(leaves), "the trees disagree"
    ratio = t_theirs / t_ours
    return [
        Row(
            f"merkle.MemoryTree: {n:,} leaves + root + {proofs} proofs",
            f"{t_ours:.3f} s",
            "-",
            None,
        ),
        Row(
            "  (CompactRange + dict of nodes, as the log does it)",
            f"{t_compact:.3f} s",
            "-",
            None,
        ),
        Row("pymerkle InmemoryTree: same workload", f"{t_theirs:.3f} s", "-", None),
        Row("pymerkle time / ours", f"{ratio:.1f}x", ">= 3x", ratio >= 3),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 100k entries")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = load()
    if os.getloadavg()[0] > 0.5:
        say(f"warning: the machine is busy (load {load_before}); figures will be low")
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    rows: list[Row] = []
    append_rows = bench_append(20_000 if args.quick else 100_000)
    rows += append_rows
    rows += bench_proofs(sizes)
    rows += bench_audit(sizes[-1], limit=append_rows[1].value)
    rows += bench_merkle(100_000)
    print(f"\nmachine: {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"load average: before {load_before}; after {load()}\n")
    print_table(rows, first="benchmark")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"ledger-{stamp}.json"
    record = {"machine": machine(), "load_before": load_before, "load_after": load()}
    out.write_text(json.dumps({**record, "rows": [asdict(r) for r in rows]}, indent=2))
    say(f"\nwrote {out}")


if __name__ == "__main__":
    main()
