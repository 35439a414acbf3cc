"""How fast the worker page renders on a large ledger: ``python bench/bench_web.py [--entries N]``.

Two ledgers:

* ``--entries N`` (default 100,000) builds the demo ledger (SQLite, in a temporary directory) and
  grows it to N log entries (filler learners with certificates, all through the bank's write
  path, about 2.5 ms an entry), then signs in as a demo learner;
* ``--cached N`` (the target: ``--cached 1000000``) reuses the HTTP benchmark's cached SQLite
  ledger ``bench/results/http-N`` (built once by ``bench/http_ledger.py`` in about 7 minutes and
  audited with ``creditbank verify``; the same cache ``bench_http.py --read-entries N`` uses) and
  signs in with one of its learners' tokens (6 certificates and 3 earned credits each).

Either way it signs in through ``/sign-in`` and times ``GET /learners/{id}`` through the whole ASGI
app in-process (session lookup, token re-check, balance, catalogue, planner, expiring items,
template), so the figure is the server's time to answer the page, without a network in between;
beside it, the CPU time each request cost this process (the figure a loaded machine disturbs
least).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_ledger import ORIGIN, prepare_ledger  # noqa: E402
from report import Row, load, machine, print_table, say  # noqa: E402

from creditbank.accounts.bank import CreditBank  # noqa: E402
from creditbank.accounts.identity import (  # noqa: E402
    Identity,
    commitment_of,
    new_learner_id,
    new_salt,
)
from creditbank.accounts.wiring import BankConfig, open_bank, shipped_data_dir  # noqa: E402
from creditbank.api.app import create_app  # noqa: E402
from creditbank.client.signer import EntrySigner  # noqa: E402
from creditbank.demo import open_demo  # noqa: E402
from creditbank.ledger.keys import load_private_key  # noqa: E402

TARGET_MS = 30.0
RESULTS = Path(__file__).resolve().parent / "results"


def grow(bank, setup, entries: int) -> None:  # type: ignore[no-untyped-def]
    """Append filler learners and certificates until the log holds ``entries`` entries."""
    registrar = setup.registrars[0]
    reg = EntrySigner(
        registrar.actor_id, load_private_key(registrar.private_key_path, passphrase=None)
    )
    provider = setup.providers[0]
    prov = EntrySigner(
        provider.actor_id, load_private_key(provider.private_key_path, passphrase=None)
    )
    with Session(bank.engine) as session:
        codes = [q.code for q in bank.catalog(session).qualifications][:20]
    batch = 1000
    learners: list[str] = []
    number = 0
    started = time.monotonic()
    while bank.log.size() < entries:
        if len(learners) < 1 + number // 20:
            identities = {}
            signed = []
            for position in range(min(batch, 200)):
                identity = Identity(
                    name=f"填充学员{len(learners)}",
                    id_number=f"3101011990{len(learners):08d}",
                    salt=new_salt(),
                )
                learner_id = new_learner_id()
                learners.append(learner_id)
                identities[position] = identity
                signed.append(
                    reg.sign(
                        "learner.registered",
                        {"v": 1, "learner_id": learner_id, "commitment": commitment_of(identity)},
                    )
                )
            bank.submit_many(signed, identities=identities)
            continue
        signed = []
        for _ in range(min(batch, entries - bank.log.size())):
            number += 1
            signed.append(
                prov.sign(
                    "certificate.issued",
                    {
                        "v": 1,
                        "certificate_id": f"FILL-{number:07d}",
                        "learner_id": learners[number % len(learners)],
                        "qualification_code": codes[number % len(codes)],
                        "level": 3,
                        "issued_on": "2025-06-01",
                    },
                )
            )
        bank.submit_many(signed)
        say(f"  {bank.log.size()} entries ({time.monotonic() - started:.0f} s)")  # fmt: skip


@contextmanager
def grown_demo(entries: int) -> Iterator[tuple[CreditBank, str, str]]:
    """The demo ledger grown to ``entries``: (bank, learner id, that learner's token)."""
    with tempfile.TemporaryDirectory() as folder:
        with open_demo(Path(folder), base_url="http://127.0.0.1:8000") as (bank, setup):
            say(f"growing the demo ledger to {entries} entries ...")
            grow(bank, setup, entries)
            learner = setup.learners[0]
            yield bank, learner.learner_id, learner.token


@contextmanager
def cached_ledger(entries: int) -> Iterator[tuple[CreditBank, str, str]]:
    """The HTTP benchmark's cached ledger of ``entries`` (built if missing): (bank, id, token)."""
    say(f"preparing the cached {entries:,}-entry ledger (bench/results/http-{entries}) ...")
    manifest = prepare_ledger(str(entries), entries, db="sqlite", results=RESULTS,
                              learner_tokens=20_000)  # fmt: skip
    say(f"  {manifest.entries:,} entries, {manifest.learners:,} learners; audit: {manifest.audit}")
    config = BankConfig(
        database_url=manifest.database_url,
        log_key_file=Path(manifest.log_key_file),
        log_key_passphrase=None,
        origin=ORIGIN,
        data_dir=shipped_data_dir(),
    )
    learner_id, token = manifest.learner_tokens[0]
    with open_bank(config) as bank:
        yield bank, learner_id, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--cached", type=int, default=0, help="reuse bench/results/http-N")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    ledger = cached_ledger(args.cached) if args.cached else grown_demo(args.entries)
    with ledger as (bank, learner_id, token):
        with TestClient(create_app(bank)) as client:
            form = client.get("/sign-in").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
            client.post("/sign-in", data={"token": token, "csrf_token": csrf})
            path = f"/learners/{learner_id}"
            for _ in range(5):  # warm caches (catalogue, templates)
                assert client.get(path).status_code == 200
            times, cpu = [], []
            for _ in range(args.requests):
                started, used = time.perf_counter(), time.process_time()
                answer = client.get(path)
                # process_time counts every thread of this process (TestClient runs the app in a
                # thread of it): the CPU the page costs, whatever the rest of the machine does.
                cpu.append((time.process_time() - used) * 1000)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
        size = bank.log.size()
    times.sort()
    median = statistics.median(times)
    p95 = times[int(len(times) * 0.95) - 1]
    kind = "cached HTTP-benchmark ledger" if args.cached else "demo ledger grown"
    print(f"machine: {machine()}; load: {load()} (shared by 7 engineers)")
    print(f"ledger: {size} entries (SQLite, {kind}); {args.requests} requests of the worker page\n")
    print_table([
        Row("worker page, median", f"{median:.1f} ms", f"<= {TARGET_MS:.0f} ms", median <= TARGET_MS),
        Row("worker page, p95", f"{p95:.1f} ms", "", None),
        Row("worker page, CPU per request, median", f"{statistics.median(cpu):.1f} ms", "", None),
    ])  # fmt: skip


if __name__ == "__main__":
    main()
