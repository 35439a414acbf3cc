"""kill -9 the bulk importer at random moments: an import is all there or not there at all.

Each round writes a fresh copy of the shipped map (new mapping ids) and starts
``creditbank import-map`` as a real process, then SIGKILLs it after a random delay, so some kills
land before the batch, some inside it and some after its commit. After every kill the log audits
clean and the round's mappings are either all registered or none; at the end the read models equal
a rebuild. Twenty rounds on SQLite and twenty on PostgreSQL.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from creditbank.accounts.authority import audit_authority
from creditbank.accounts.bank import CreditBank
from creditbank.accounts.replay import rebuild, snapshot
from creditbank.accounts.seeding import programme_body
from creditbank.accounts.tables import MappingRow
from creditbank.accounts.wiring import create_schema, load_programmes, shipped_data_dir
from creditbank.ledger.audit import audit_log
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.entry import Entry, public_key_to_b64, sign_entry
from creditbank.ledger.keys import save_private_key
from creditbank.ledger.log import Log
from creditbank.ledger.sql import SqlLogStore

ROUNDS = 20
ORIGIN = "creditbank.test/crash"
PASSPHRASE = "crash-test-passphrase"
PROVIDER = "prov-crash"


def write_round_map(path: Path, round_no: int) -> int:
    """The shipped map with every mapping renamed for this round and owned by our provider."""
    with (shipped_data_dir() / "qualification_map.csv").open(encoding="utf-8", newline="") as src:
        rows = list(csv.DictReader(src))
    for row in rows:
        row["mapping_id"] = f"{row['mapping_id']}-R{round_no}"
        row["provider"] = PROVIDER
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return len({(row["mapping_id"], row["version"]) for row in rows})


def registered(engine: Engine, round_no: int) -> int:
    with Session(engine) as session:
        stmt = (
            select(func.count())
            .select_from(MappingRow)
            .where(col(MappingRow.mapping_id).like(f"%-R{round_no}"))
        )
        return int(session.exec(stmt).one())


@pytest.mark.slow
def test_killed_importer_never_leaves_a_partial_import(
    engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    create_schema(engine)
    log_key, admin, provider, registrar = (Ed25519PrivateKey.generate() for _ in range(4))
    save_private_key(log_key, tmp_path / "log.key", passphrase=PASSPHRASE.encode())
    save_private_key(provider, tmp_path / "provider.key", passphrase=PASSPHRASE.encode())
    store = SqlLogStore(engine)
    with Log.open(store, origin=ORIGIN, signer=NoteSigner(ORIGIN, log_key)) as log:
        log.register_key(now=log_clock())
        bank = CreditBank(engine, log)
        bank.bootstrap(
            admin_id="admin",
            admin_name="Admin",
            admin_public_key=public_key_to_b64(admin.public_key()),
        )
        actors = [
            ("provider", PROVIDER, provider, {}),
            ("institution", "SOU", Ed25519PrivateKey.generate(), {}),
            ("registrar", "reg-sou", registrar, {"institution": "SOU"}),
        ]
        for role, actor_id, key, extra in actors:
            entry = Entry.create(
                type="actor.registered",
                actor="admin",
                nonce=f"register-{actor_id}",
                claimed_at=log_clock(),
                body={
                    "v": 1,
                    "actor_id": actor_id,
                    "role": role,
                    "name": f"Crash-test {role}",
                    "public_key": public_key_to_b64(key.public_key()),
                    **extra,
                },
            )
            bank.submit(sign_entry(entry, admin))
        for programme in load_programmes(shipped_data_dir()):
            entry = Entry.create(
                type="programme.registered",
                actor="reg-sou",
                nonce=f"programme-{programme.code}",
                claimed_at=log_clock(),
                body=programme_body(programme),
            )
            bank.submit(sign_entry(entry, registrar))

    url = engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "CREDITBANK_DATABASE_URL": url,
        "CREDITBANK_LOG_KEY_FILE": str(tmp_path / "log.key"),
        "CREDITBANK_LOG_KEY_PASSPHRASE": PASSPHRASE,
        "CREDITBANK_KEY_PASSPHRASE": PASSPHRASE,
        "CREDITBANK_ORIGIN": ORIGIN,
    }
    if engine.dialect.name == "postgresql":
        env["PGOPTIONS"] = f"-csearch_path={request.getfixturevalue('pg_schema')[1]}"
    rng = random.Random(20261124)
    outcomes = {"none": 0, "all": 0}

    def start_import(round_no: int) -> tuple[subprocess.Popen[bytes], int, IO[bytes]]:
        csv_path = tmp_path / f"map-{round_no}.csv"
        expected = write_round_map(csv_path, round_no)
        stderr = (tmp_path / f"import-{round_no}.err").open("wb")
        command = [sys.executable, "-m", "creditbank", "import-map", str(csv_path)]
        command += ["--provider", PROVIDER, "--key", str(tmp_path / "provider.key")]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        return process, expected, stderr

    # One import run to the end says how long an import takes on this machine now (start-up and
    # commit both slow down under load); the kills then land across that span, so that some
    # fall before the commit and some after it, however busy the machine is.
    started = time.monotonic()
    process, expected, stderr = start_import(ROUNDS)
    assert process.wait() == 0, (tmp_path / f"import-{ROUNDS}.err").read_text()
    stderr.close()
    took = time.monotonic() - started
    assert registered(engine, ROUNDS) == expected
    for round_no in range(ROUNDS):
        process, expected, stderr = start_import(round_no)
        time.sleep(rng.uniform(0.2, 1.4) * took)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        stderr.close()
        count = registered(engine, round_no)
        assert count in (0, expected), f"round {round_no}: {count} of {expected} mappings visible"
        outcomes["all" if count else "none"] += 1
        audit_log(store, origin=ORIGIN)
    assert outcomes["none"] and outcomes["all"], outcomes  # kills landed on both sides of commit
    audit_authority(store)
    with Session(engine) as session:
        live = snapshot(session)
    rebuild(store)
    with Session(engine) as session:
        assert snapshot(session) == live


def log_clock() -> datetime:
    return datetime.now(UTC)
