"""How fast the pages check and append a cohort file: ``python bench/bench_web_imports.py [--rows N]``.

On the demo ledger (SQLite, a temporary directory), signed in as the demo registrar, through the
whole ASGI app in-process (no network): the time of ``POST /registrar/imports/preview`` for a
learners CSV and a credits XLSX of ``--rows`` rows (read, every cell checked, the rows and the
signing form rendered), and the server's time to take the page's batches: credit rows signed in
Python exactly as ``static/js/bulk.js`` signs them (the CLI's bodies and nonces), posted to
``POST /web/batch`` in the page's batches of 100. Browser-side signing is not in these figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import Workbook
from report import Row, load, machine, print_table, say

from creditbank.accounts.cohort_files import read_cohort_file
from creditbank.accounts.cohorts import row_body, row_nonce
from creditbank.api.app import create_app
from creditbank.client.signer import EntrySigner
from creditbank.demo import open_demo
from creditbank.ledger.keys import load_private_key

CHECK_TARGET_MS = 1000.0  # a file of a few thousand rows is checked within a second
APPEND_TARGET_ROWS_S = 1000.0  # the target of the API's cohort import (bench_import.py)
BATCH_ROWS = 100  # what bulk.js posts at once
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(number: int) -> str:
    body = f"310101199001{number:05d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def _learners_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "身份证号"])
    writer.writerows([f"学员{n}", _id_number(n)] for n in range(rows))
    return out.getvalue().encode("utf-8")


def _credit_rows(rows: int, learner_id: str) -> list[list[object]]:
    header: list[object] = ["credit_id", "learner_id", "institution", "course_code", "credits",
                            "grade", "earned_on"]  # fmt: skip
    return [header] + [
        [f"BENCH-CR-{n:06d}", learner_id, "SSPU", "ME1021", 2.5, 80, date(2025, 9, 1)]
        for n in range(rows)
    ]


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _median_ms(client: TestClient, csrf: str, kind: str, name: str, data: bytes, n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        answer = client.post(
            "/registrar/imports/preview",
            data={"kind": kind, "csrf_token": csrf},
            files={"file": (name, data, "application/octet-stream")},
        )
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200 and 'id="sign-import"' in answer.text, answer.text[:500]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        with open_demo(Path(folder), base_url="http://127.0.0.1:8000") as (bank, setup):
            registrar = setup.registrars[0]
            signer = EntrySigner(
                registrar.actor_id, load_private_key(registrar.private_key_path, passphrase=None)
            )
            learner = setup.learners[0].learner_id
            learners = _learners_csv(args.rows)
            credit_rows = _credit_rows(args.rows, learner)
            credits = _xlsx(credit_rows)
            with TestClient(create_app(bank)) as client:
                form = client.get("/sign-in").text
                csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
                client.post("/sign-in", data={"token": registrar.token, "csrf_token": csrf})
                say(f"checking {args.rows}-row files ...")
                learners_ms = _median_ms(
                    client, csrf, "learners", "people.csv", learners, args.repeat
                )
                credits_ms = _median_ms(
                    client, csrf, "credits", "credits.xlsx", credits, args.repeat
                )
                path = Path(folder) / "credits.xlsx"
                path.write_bytes(credits)
                cohort = read_cohort_file("credits", path, today=bank.clock().date())
                signed = [
                    signer.sign("credit.earned", row_body("credits", row),
                                nonce=row_nonce("credits", row, b""))
                    for row in cohort.rows
                ]  # fmt: skip
                say(f"appending {len(signed)} rows in batches of {BATCH_ROWS} ...")
                started = time.perf_counter()
                for at in range(0, len(signed), BATCH_ROWS):
                    answer = client.post(
                        "/web/batch",
                        json={"entries": [{"entry": s.to_json(), "identity": None}
                                          for s in signed[at : at + BATCH_ROWS]]},
                        headers={"X-CSRF-Token": csrf},
                    )  # fmt: skip
                    assert answer.status_code == 201, answer.text
                seconds = time.perf_counter() - started
    rate = len(signed) / seconds
    print(f"machine: {machine()}; load: {load()} (shared with other engineers)")
    print(f"demo ledger (SQLite); files of {args.rows} rows, median of {args.repeat} checks\n")
    print_table([
        Row(f"check learners CSV ({len(learners) // 1024} KiB)", f"{learners_ms:.0f} ms",
            f"<= {CHECK_TARGET_MS:.0f} ms", learners_ms <= CHECK_TARGET_MS),
        Row(f"check credits XLSX ({len(credits) // 1024} KiB)", f"{credits_ms:.0f} ms",
            f"<= {CHECK_TARGET_MS:.0f} ms", credits_ms <= CHECK_TARGET_MS),
        Row(f"append via /web/batch ({BATCH_ROWS} a batch)", f"{rate:.0f} rows/s",
            f">= {APPEND_TARGET_ROWS_S:.0f} rows/s", rate >= APPEND_TARGET_ROWS_S),
    ])  # fmt: skip


if __name__ == "__main__":
    main()
