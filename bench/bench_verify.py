"""What `creditbank verify`'s extra checks cost beside the ledger audit, on one cached ledger.

``creditbank verify`` runs, in order: the ledger audit (every signature, leaf hash, root and
checkpoint), the read-model audit (replay the log into fresh read models and compare them table by
table, issue 11: <= 50 % on top of the audit) and the conversion re-check (every
``conversion.posted`` against the rules in force when it was posted, issue 12: verify with it <=
1.3x verify without it), the re-check riding on the read-model audit's replay. The replays after
the audit decode the leaves it has just checked without re-deriving their canonical bytes. This
times each part on the same ledger in one run, so the ratios compare like with like on a shared
machine.

    .venv/bin/python bench/bench_verify.py                 # the HTTP benchmark's 1M ledger
    .venv/bin/python bench/bench_verify.py --ledger 100000 # its 100k ledger

The ledger is the one ``bench/bench_http.py`` builds and caches under ``bench/results/http-N``
(built here if missing: about 7 minutes for 1M on an idle 2-core machine).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ledger import verify_rate  # noqa: E402
from http_ledger import prepare_ledger  # noqa: E402
from report import CORES, Row, load, machine, print_table, say  # noqa: E402

from creditbank.accounts.authority import audit_authority  # noqa: E402
from creditbank.accounts.names import DEFAULT_TIMEZONE  # noqa: E402
from creditbank.accounts.readmodel_audit import audit_read_models  # noqa: E402
from creditbank.ledger import SqlLogStore  # noqa: E402
from creditbank.ledger.audit import audit_log  # noqa: E402
from creditbank.ledger.database import make_engine  # noqa: E402
from creditbank.ledger.entry import Leaf  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
#: Signatures the Ed25519-only rate is measured on (the issue 10 target: audit >= 0.85 of it).
SAMPLE = 200_000


def _timed(label: str, call: object) -> float:
    say(f"{label} ...")
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ledger", type=int, default=1_000_000, help="entries (cached ledger)")
    parser.add_argument("--workers", type=int, default=2, help="audit worker processes")
    args = parser.parse_args()
    manifest = prepare_ledger(str(args.ledger), args.ledger, db="sqlite", results=RESULTS)
    engine = make_engine(manifest.database_url)
    store = SqlLogStore(engine)
    size = store.size()
    before = load()
    say("Ed25519 verification alone, on a sample of this ledger's signatures ...")
    sample = [Leaf.from_bytes(row.data).signed for row in store.leaves(0, min(size, SAMPLE))]
    ed25519 = verify_rate(sample)
    del sample
    audit = _timed(
        "ledger audit",
        lambda: audit_log(store, origin=manifest.origin, workers=args.workers),
    )
    # What `creditbank verify` does after the audit: the replays trust the leaves it just checked.
    authority = _timed("authority audit", lambda: audit_authority(store, audited=size))
    models = _timed("read-model audit", lambda: audit_read_models(engine, store, audited=size))
    both = _timed(
        "read-model audit with the conversion re-check in the same replay",
        lambda: audit_read_models(engine, store, audited=size, conversions=DEFAULT_TIMEZONE),
    )
    engine.dispose()
    model_share = models / audit
    without = audit + authority + models
    with_recheck = (audit + authority + both) / without
    audit_share = size / audit / ed25519
    rows = [
        Row(f"Ed25519 verification alone, {CORES} threads, keys and bytes ready",
            f"{ed25519:,.0f} /s", "-", None),
        Row(f"ledger audit, {size:,} entries, workers={args.workers}",
            f"{audit:.1f} s ({size / audit:,.0f} /s)", "-", None),
        Row("  audit rate / Ed25519-only rate", f"{audit_share:.2f}", ">= 0.85",
            audit_share >= 0.85),
        Row("authority audit (who may sign what)", f"{authority:.1f} s", "-", None),
        Row("read-model audit (replay + compare)", f"{models:.1f} s", "-", None),
        Row("  its cost on top of the ledger audit", f"{model_share:.0%}", "<= 50 %",
            model_share <= 0.5),
        Row("read-model audit with the conversion re-check", f"{both:.1f} s", "-", None),
        Row("  verify with the re-check / verify without it", f"{with_recheck:.2f}x", "<= 1.3x",
            with_recheck <= 1.3),
    ]  # fmt: skip
    print(f"machine: {machine()}")
    print(f"command: python bench/bench_verify.py --ledger {args.ledger}")
    print(f"load average: before {before}; after {load()}")
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
