"""Issue 11 figures: bulk append with learner chains and index on vs off, transcript build for a
learner with 50 entries, and the read-model audit beside the ledger audit.

Run: ``.venv/bin/python bench/bench_transcripts.py [--entries 20000] [--learners 2000]``.
Both append runs happen in this process, one after the other, on fresh SQLite files, so the ratio
compares like with like on a shared machine. Map proof time at 1M entries / 100k learners is
``bench/bench_learner_index.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from report import Row, load, machine, print_table, say  # noqa: E402
from sqlmodel import Session  # noqa: E402

from creditbank.accounts.bank import CreditBank  # noqa: E402
from creditbank.accounts.identity import Identity, commitment_of, new_salt  # noqa: E402
from creditbank.accounts.readmodel_audit import audit_read_models  # noqa: E402
from creditbank.accounts.transcript import build_transcript  # noqa: E402
from creditbank.accounts.wiring import create_schema  # noqa: E402
from creditbank.client.signer import EntrySigner  # noqa: E402
from creditbank.ledger.audit import audit_log  # noqa: E402
from creditbank.ledger.chain import INDEX_ENTRY_TYPE, LearnerChains  # noqa: E402
from creditbank.ledger.checkpoint import NoteSigner  # noqa: E402
from creditbank.ledger.database import make_engine  # noqa: E402
from creditbank.ledger.entry import Entry, SignedEntry, public_key_to_b64, sign_entry  # noqa: E402
from creditbank.ledger.log import Log  # noqa: E402
from creditbank.ledger.sql import SqlLogStore, create_log_schema  # noqa: E402

ORIGIN = "bench.creditbank.example/transcripts"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _entries(n: int, learners: int, key: Ed25519PrivateKey) -> list[tuple[SignedEntry, str]]:
    out = []
    for i in range(n):
        learner = f"L{i % learners:06d}"
        entry = Entry.create(
            type="credit.earned",
            actor="reg-1",
            nonce=f"bench-{i:09d}",
            claimed_at=NOW,
            body={"credit_id": f"CR{i}", "learner_id": learner, "credits": "2"},
        )
        out.append((sign_entry(entry, key), learner))
    return out


def _append_rate(
    folder: Path, name: str, items: list[tuple[SignedEntry, str]], chained: bool
) -> float:
    engine = make_engine(f"sqlite:///{folder / name}")
    create_log_schema(engine)
    log_key = Ed25519PrivateKey.generate()

    def index_entry(body: dict[str, Any], now: datetime) -> SignedEntry:
        return sign_entry(
            Entry.create(
                type=INDEX_ENTRY_TYPE,
                actor="system",
                nonce=f"learner-index-{body['tree_size']}",
                claimed_at=now,
                body=body,
            ),
            log_key,
        )

    chains = LearnerChains(index_entry) if chained else None
    batch_size = 1000
    with Log.open(SqlLogStore(engine), origin=ORIGIN, signer=NoteSigner(ORIGIN, log_key)) as log:
        log.chains = chains
        started = time.perf_counter()
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            with log.batch(now=NOW) as batch:
                batch.add_many(
                    [s for s, _ in chunk], learners=[lr for _, lr in chunk] if chained else None
                )
        elapsed = time.perf_counter() - started
    engine.dispose()
    return len(items) / elapsed


def _credit(registrar: EntrySigner, credit_id: str, learner_id: str, course: str) -> SignedEntry:
    return registrar.sign(
        "credit.earned",
        {
            "v": 1,
            "credit_id": credit_id,
            "learner_id": learner_id,
            "institution": "SOU",  # the registrar's own institution
            "course_code": course,
            "credits": "2",
            "grade": 80,
            "earned_on": (NOW - timedelta(days=30)).date().isoformat(),
        },
    )


def _transcript_bank(folder: Path, entries: int, filler: int = 0) -> tuple[CreditBank, Any, Any]:
    """A bank whose learner ``L-bench`` has ``entries`` entries, with ``filler`` entries of ten
    other learners appended between each two of them (so its proofs reach deep into a real-sized
    tree instead of sharing one small subtree)."""
    engine = make_engine(f"sqlite:///{folder / 'bank.db'}")
    create_schema(engine)
    clock = lambda: NOW  # noqa: E731
    log_key = Ed25519PrivateKey.generate()
    pool = Log.open(SqlLogStore(engine), origin=ORIGIN, signer=NoteSigner(ORIGIN, log_key))
    log = pool.__enter__()
    log.register_key(now=NOW)
    bank = CreditBank(engine, log, clock=clock)
    admin = EntrySigner("admin", Ed25519PrivateKey.generate(), clock=clock)
    registrar = EntrySigner("reg-1", Ed25519PrivateKey.generate(), clock=clock)
    bank.bootstrap(admin_id="admin", admin_name="Admin", admin_public_key=_pub(admin))
    institution = EntrySigner("SOU", Ed25519PrivateKey.generate(), clock=clock)
    for actor_id, role, signer in (
        ("SOU", "institution", institution),
        ("reg-1", "registrar", registrar),
    ):
        bank.submit(
            admin.sign(
                "actor.registered",
                {
                    "v": 1,
                    "actor_id": actor_id,
                    "role": role,
                    "name": "R",
                    "public_key": _pub(signer),
                    **({"institution": "SOU"} if role == "registrar" else {}),
                },
            )
        )
    others = [f"L-other-{i}" for i in range(10)] if filler else []
    for learner_id in ["L-bench", *others]:
        identity = Identity(name="张伟", id_number="310101199001011234", salt=new_salt())
        bank.submit(
            registrar.sign(
                "learner.registered",
                {"v": 1, "learner_id": learner_id, "commitment": commitment_of(identity)},
            ),
            identity=identity,
        )
    for i in range(entries - 1):
        if filler:
            bank.submit_many(
                [
                    _credit(registrar, f"F-{i}-{j}", others[j % 10], f"F{j:04d}")
                    for j in range(filler)
                ]
            )
        bank.submit(_credit(registrar, f"CR-{i}", "L-bench", f"C{i:03d}"))
    return bank, engine, pool


def _build_ms(bank: CreditBank, engine: Any) -> tuple[float, float]:
    """Median wall and CPU milliseconds of building L-bench's transcript (30 builds)."""
    wall, cpu = [], []
    for _ in range(30):
        with Session(engine) as session:
            t0, c0 = time.perf_counter(), time.process_time()
            bundle = build_transcript(session, bank.log, "L-bench")
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    assert len([e for e in bundle["entries"] if "chain" in e["leaf"]]) == 50
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def _pub(signer: EntrySigner) -> str:
    return public_key_to_b64(signer.private_key.public_key())


def _transcript_rows(folder: Path, filler: int) -> tuple[list[Row], str]:
    rows = []
    audit_note = ""
    for spread in (0, filler):
        say(f"building a 50-entry learner's bank ({spread} other entries between its entries) ...")
        sub = folder / f"spread-{spread}"
        sub.mkdir()
        bank, engine, pool = _transcript_bank(sub, 50, spread)
        wall, cpu = _build_ms(bank, engine)
        size = bank.log.size()
        rows.append(
            Row(
                f"transcript build, 50 entries in a log of {size:,}, median wall (CPU) ms",
                f"{wall:.1f} ({cpu:.1f})",
                "<= 20 ms",
                wall <= 20,
            )
        )
        if spread == 0:
            t0 = time.perf_counter()
            audit_log(bank.log.store, origin=ORIGIN)
            ledger_audit = time.perf_counter() - t0
            t0 = time.perf_counter()
            audit_read_models(engine, bank.log.store)
            model_audit = time.perf_counter() - t0
            audit_note = f"{model_audit:.2f} s vs {ledger_audit:.2f} s ({size} entries)"
        pool.__exit__(None, None, None)
        engine.dispose()
    return rows, audit_note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--learners", type=int, default=2_000)
    parser.add_argument(
        "--filler",
        type=int,
        default=100,
        help="other learners' entries between two of the benched learner's (second log)",
    )
    parser.add_argument("--only", choices=("all", "transcripts"), default="all")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if args.only == "all":
            key = Ed25519PrivateKey.generate()
            items = _entries(args.entries, args.learners, key)
            say("appending with chains off ...")
            off = _append_rate(folder, "off.db", items, chained=False)
            say("appending with chains and index on ...")
            on = _append_rate(folder, "on.db", items, chained=True)
            ratio = on / off
            rows += [
                Row("bulk append, chains off (entries/s)", f"{off:,.0f}", "", None),
                Row("bulk append, chains + index on (entries/s)", f"{on:,.0f}", "", None),
                Row("ratio on / off", f"{ratio:.2f}", ">= 0.8", ratio >= 0.8),
            ]
        built, audit_note = _transcript_rows(folder, args.filler)
        rows += built
        rows.append(Row("read-model audit vs ledger audit", audit_note, "", None))
    print(f"machine: {machine()}; load {load()} (shared by 7 engineers)")
    if args.only == "all":
        print(
            f"append: {args.entries} signed entries over {args.learners} learners, batches of 1000"
        )
    print_table(rows)


if __name__ == "__main__":
    main()
