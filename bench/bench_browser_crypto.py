"""The browser crypto library in Debian's Chromium: a transcript and an eddsa-jcs-2022 proof.

Run from the repository root:

    CREDITBANK_TEST_CHROMIUM=/usr/bin/chromium .venv/bin/python bench/bench_browser_crypto.py

A transcript of 1,000 entries (each: JCS of the leaf, its SHA-256 leaf hash, an RFC 9162 inclusion
proof in a tree of 1,000 and the actor's Ed25519 signature) and the W3C eddsa-jcs-2022 vector
credential are verified in the page, with WebCrypto doing SHA-256 and Ed25519. The median of
several runs is reported beside the target: what a person on the /verify page waits for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from report import Row, load, machine, print_table, say

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from creditbank.ledger.canonical import canonical_bytes  # noqa: E402
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner  # noqa: E402
from creditbank.ledger.merkle import MemoryTree  # noqa: E402
from tests.browser_crypto.conftest import (  # noqa: E402
    HARNESS,
    LiveServer,
    harness_app,
    module_call,
)
from tests.conftest import CHROMIUM_ARGS  # noqa: E402

ENTRIES = 1000
RUNS = 5


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def transcript(size: int) -> dict[str, Any]:
    actor = Ed25519PrivateKey.generate()
    public = _b64(actor.public_key().public_bytes_raw())
    leaves = []
    for i in range(size):
        entry = {
            "type": "credit.earned",
            "actor": "registrar-1",
            "claimed_at": "2026-01-15T08:00:00Z",
            "nonce": f"nonce-{i:06d}",
            "body": {"learner_id": "L-1", "credits": "2", "course": f"课程 {i}"},
        }
        sig = actor.sign(b"creditbank-entry/v1\n" + canonical_bytes(entry))
        signature = {"alg": "Ed25519", "public_key": public, "sig": _b64(sig)}
        leaves.append(
            {"entry": entry, "integrated_at": "2026-01-15T08:00:01.000000Z", "signature": signature}
        )
    data = [canonical_bytes(leaf) for leaf in leaves]
    tree = MemoryTree(data)
    signer = NoteSigner("bench.example/log", Ed25519PrivateKey.generate())
    return {
        "format": "creditbank-transcript/v1",
        "learner_id": "L-1",
        "log": {"origin": "bench.example/log", "verifier_key": signer.verifier.vkey},
        "checkpoint": Checkpoint("bench.example/log", size, tree.root()).sign([signer]),
        "tree_size": size,
        "entries": [
            {
                "index": i,
                "leaf": leaves[i],
                "leaf_hash": _b64(hashlib.sha256(b"\x00" + data[i]).digest()),
                "inclusion_proof": [_b64(p) for p in tree.inclusion_proof(i)],
            }
            for i in range(size)
        ],
    }


def main() -> None:
    executable = os.environ.get("CREDITBANK_TEST_CHROMIUM", "/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    signed = json.loads((ROOT / "tests/vectors/eddsa-jcs-2022/signedJCS.json").read_text())
    bundle = transcript(ENTRIES)
    server = LiveServer(harness_app()).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(server.url + HARNESS)
            say(f"verifying a transcript of {ENTRIES} entries, {RUNS} times")
            times = [
                page.evaluate(
                    module_call(
                        "/static/js/crypto/transcript.js",
                        "const t0 = performance.now(); await m.verifyTranscript(arg);"
                        " return performance.now() - t0;",
                    ),
                    bundle,
                )
                for _ in range(RUNS)
            ]
            proof = [
                page.evaluate(
                    module_call(
                        "/static/js/crypto/eddsa-jcs-2022.js",
                        "const t0 = performance.now(); for (let i = 0; i < 100; i++)"
                        " await m.verifyProof(arg); return (performance.now() - t0) / 100;",
                    ),
                    signed,
                )
                for _ in range(RUNS)
            ]
            browser.close()
    finally:
        server.stop()
    transcript_ms, proof_ms = statistics.median(times), statistics.median(proof)
    print(f"machine: {machine()}; load: {load()}")
    print_table(
        [
            Row(
                f"transcript of {ENTRIES} entries, median",
                f"{transcript_ms:.0f} ms",
                "<= 1000 ms",
                transcript_ms <= 1000,
            ),
            Row(
                "eddsa-jcs-2022 proof (W3C vector), median",
                f"{proof_ms:.2f} ms",
                "<= 5 ms",
                proof_ms <= 5,
            ),
        ]
    )


if __name__ == "__main__":
    main()
