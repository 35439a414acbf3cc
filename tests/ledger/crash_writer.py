"""Append whole batches of signed entries to a log forever; ``test_crash`` SIGKILLs this process.

Usage: ``python crash_writer.py DATABASE_URL BATCH_SIZE SEED_HEX``. The log and actor keys derive
from the seed so that every restart continues the same log. Prints ``ready`` once set up,
``appending`` as each batch goes to the log and ``committed`` when it is in, so the test can aim
its kills.
"""

from __future__ import annotations

import hashlib
import secrets
import sys
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import Entry, SignedEntry, sign_entry
from creditbank.ledger.log import Log
from creditbank.ledger.sql import SqlLogStore, create_log_schema

ORIGIN = "crash.creditbank.example/log"


def key_from(seed: bytes, purpose: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed + purpose).digest())


def batch(actor_key: Ed25519PrivateKey, size: int) -> list[SignedEntry]:
    now = datetime.now(UTC)
    return [
        sign_entry(
            Entry.create(
                type="credit.earned",
                actor="crash-writer",
                nonce=secrets.token_hex(12),
                body={"learner": secrets.token_hex(6), "credits": "3.0", "n": i},
                claimed_at=now,
            ),
            actor_key,
        )
        for i in range(size)
    ]


def main() -> None:
    url, batch_size, seed = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
    engine = make_engine(url)
    create_log_schema(engine)
    store = SqlLogStore(engine)
    signer = NoteSigner(ORIGIN, key_from(seed, b"log"))
    actor_key = key_from(seed, b"actor")
    with Log.open(store, origin=ORIGIN, signer=signer) as log:
        if signer.verifier.vkey not in store.log_keys():
            log.register_key(now=datetime.now(UTC))
        print("ready", flush=True)
        while True:
            entries = batch(actor_key, batch_size)
            print("appending", flush=True)
            log.append(entries, now=datetime.now(UTC))
            print("committed", flush=True)


if __name__ == "__main__":
    main()
