"""Credential latencies over the demo ledger: issue, reuse, verify, status list, PDF.

Run from the repository root:

    .venv/bin/python bench/bench_credentials.py [--runs 20]

Builds the demo (a SQLite ledger in a temporary folder), then times, per demo learner: issuing a
new credential (transcript, balance, one signature per achievement and one for the whole), asking
again with nothing new (the stored credential), verifying offline (every proof, every inclusion
proof, every achievement against its log entry), signing the status list, and rendering the PDF.
The figures go to docs/credentials.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import Row, load, machine, print_table, say  # noqa: E402

from creditbank.credentials.issuance import issue_credential, signed_status_list  # noqa: E402
from creditbank.credentials.issuer import CredentialIssuer  # noqa: E402
from creditbank.credentials.pdf import render_credential_pdf  # noqa: E402
from creditbank.credentials.verification import verify_credential  # noqa: E402
from creditbank.demo import open_demo  # noqa: E402
from creditbank.ledger.keys import generate_key  # noqa: E402


def _median_ms(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    say(f"machine: {machine()}; load {load()}")
    with tempfile.TemporaryDirectory() as folder:
        with open_demo(Path(folder), base_url="http://127.0.0.1:8000") as (bank, setup):
            issuer = CredentialIssuer(generate_key(), "http://127.0.0.1:8000")
            now = datetime.now(UTC)
            first = []
            for learner in setup.learners:
                start = time.perf_counter()
                issue_credential(bank, issuer, learner.learner_id, include_name=False, now=now)
                first.append((time.perf_counter() - start) * 1000)
            learner_id = setup.learners[0].learner_id
            issued = issue_credential(bank, issuer, learner_id, include_name=False, now=now)
            doc = issued.document
            keys = [bank.log.verifier]
            achievements = len(doc["credentialSubject"]["verifiableCredential"])
            entries = len(doc["evidence"][0]["transcript"]["entries"])
            figures = [
                ("issue a new credential (median over learners)", statistics.median(first), 500),
                (
                    "ask again, nothing new (stored credential)",
                    _median_ms(
                        lambda: issue_credential(
                            bank, issuer, learner_id, include_name=False, now=now
                        ),
                        args.runs,
                    ),
                    200,
                ),
                (
                    f"verify offline ({achievements} achievements, {entries} entries)",
                    _median_ms(lambda: verify_credential(doc, now=now, log_keys=keys), args.runs),
                    200,
                ),
                (
                    "sign the status list (131,072 bits)",
                    _median_ms(lambda: signed_status_list(bank, issuer, 1, now=now), args.runs),
                    100,
                ),
                (
                    "render the PDF",
                    _median_ms(
                        lambda: render_credential_pdf(doc, verify_url=issuer.verify_page_url("x")),
                        max(3, args.runs // 4),
                    ),
                    1500,
                ),
            ]
    rows = [
        Row(name, f"{value:.1f} ms", f"< {target} ms", value < target, value)
        for name, value, target in figures
    ]
    print_table(rows, first="credentials")


if __name__ == "__main__":
    main()
