"""Cohort import through the HTTP API (issue 12): 10,000 certificate rows, >= 1,000 rows/s.

Run from the repository root:

    .venv/bin/python bench/bench_import.py [--rows 10000] [--batch-rows 500] [--kill-after 3]

What it does, against a real ``uvicorn`` server over a fresh SQLite ledger (a provider, a learner):

1. writes a certificates CSV of ``--rows`` rows and times ``creditbank import certificates``'s
   work (:func:`creditbank.cli.import_commands.run_import`: read, check, sign, known-nonce lookups,
   ``POST /v1/batch`` per ``--batch-rows`` rows);
2. re-imports the same file (must append nothing);
3. runs the real CLI in a child process on a second file, ``kill -9``s it once its first batch is
   in the log (or after ``--kill-after`` seconds), checks the log grew by whole batches only, re-runs the same command and checks every
   row is in the log exactly once.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import Row, load, machine, print_table, say  # noqa: E402

from creditbank.cli.import_commands import ImportClient, run_import  # noqa: E402
from creditbank.ledger.database import make_engine  # noqa: E402
from creditbank.ledger.keys import save_private_key  # noqa: E402
from tests.api.served import Server, prepare_ledger  # noqa: E402

TARGET = 1000.0


def write_file(path: Path, learner: str, rows: int, tag: str) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["certificate_id", "learner_id", "qualification_code", "level", "issued_on"])
        for i in range(rows):
            out.writerow([f"{tag}-{i:06d}", learner, "6-18-01-01", 1 + i % 5, "2025-06-30"])
    return path


def log_size(engine: object) -> int:
    """Entries in the log other than the learner-index roots the log adds to each batch (one
    per committed batch since issue 11): the rows the import appended."""
    from sqlalchemy import text

    with engine.connect() as conn:  # type: ignore[attr-defined]
        sql = "SELECT count(*) FROM log_entries WHERE entry_type <> 'ledger.learner_index'"
        return int(conn.execute(text(sql)).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch-rows", type=int, default=500)
    parser.add_argument("--kill-after", type=float, default=120.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    engine = make_engine(f"sqlite:///{folder / 'creditbank.db'}")
    ledger = prepare_ledger(engine, folder, pg_schema=None)
    rows: list[Row] = []
    with Server(ledger, folder / "server.log") as server:
        server.wait_ready()
        signer = ledger.provider
        client = ImportClient(server.url, token=ledger.provider_token, signer=signer, timeout=120)
        path = write_file(folder / "certs.csv", ledger.learner_id, args.rows, "B")
        before = log_size(engine)
        say(f"importing {args.rows} rows ...")
        start = time.perf_counter()
        result = run_import(client, signer, "certificates", path, batch_rows=args.batch_rows)
        seconds = time.perf_counter() - start
        rate = args.rows / seconds
        grew = log_size(engine) - before
        rows.append(
            Row(f"import {args.rows} certificate rows (batches of {args.batch_rows})",
                f"{rate:.0f} rows/s ({seconds:.1f} s)", f">= {TARGET:.0f} rows/s",
                rate >= TARGET and grew == args.rows == result.appended)
        )  # fmt: skip
        start = time.perf_counter()
        again = run_import(client, signer, "certificates", path, batch_rows=args.batch_rows)
        rows.append(
            Row("re-import of the same file", f"{again.appended} appended, {again.already} known "
                f"({time.perf_counter() - start:.1f} s)", "0 appended", again.appended == 0)
        )  # fmt: skip
        rows.append(_kill_and_resume(server.url, ledger, folder, engine, args))
        client.close()
    print(f"machine: {machine()}; load {load()}; SQLite, 1 worker")
    print_table(rows, first="case")
    sys.exit(0 if all(r.ok for r in rows) else 1)


def _kill_and_resume(url: str, ledger: object, folder: Path, engine: object, args: object) -> Row:
    """The real CLI, killed with SIGKILL mid-import, then re-run."""
    key = folder / "provider.key"
    save_private_key(ledger.provider.private_key, key, passphrase=b"bench-import-key")  # type: ignore[attr-defined]
    rows: int = args.rows  # type: ignore[attr-defined]
    batch: int = args.batch_rows  # type: ignore[attr-defined]
    path = write_file(folder / "killed.csv", ledger.learner_id, rows, "K")  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBANK_")}
    env["CREDITBANK_KEY_PASSPHRASE"] = "bench-import-key"
    command = [sys.executable, "-m", "creditbank", "import", "certificates", str(path),
               "--url", url, "--token", ledger.provider_token, "--key", str(key),  # type: ignore[attr-defined]
               "--batch-rows", str(batch)]  # fmt: skip
    before = log_size(engine)
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # kill once the first batch is in and the next is on its way (or after --kill-after s)
    deadline = time.monotonic() + args.kill_after  # type: ignore[attr-defined]
    while child.poll() is None and log_size(engine) - before < batch:
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.2)
    child.send_signal(signal.SIGKILL)
    child.wait()
    time.sleep(0.5)  # a batch the server was appending when the client died commits whole
    after_kill = log_size(engine) - before
    whole = after_kill % batch == 0
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    total = log_size(engine) - before
    ok = whole and total == rows and rerun.returncode == 0
    return Row(
        "kill -9 mid-import, then the same command again",
        f"{after_kill} rows after the kill ({after_kill // batch} whole batches), {total} after "
        "the re-run",
        f"whole batches; {rows} after",
        ok,
    )


if __name__ == "__main__":
    main()
