"""A separate OS process that appends certificates through its own CreditBank (many-writers test).

Spawned by ``test_many_writers``; module-level so ``multiprocessing`` can import it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from creditbank.accounts.bank import CreditBank, Submission
from creditbank.accounts.group_commit import GroupCommitter
from creditbank.ledger.checkpoint import NoteSigner
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import Entry, sign_entry
from creditbank.ledger.log import Log
from creditbank.ledger.sql import SqlLogStore


def append_certificates(
    url: str,
    schema: str | None,
    origin: str,
    log_key: bytes,
    provider_key: bytes,
    learner_id: str,
    worker: int,
    count: int,
) -> list[int]:
    engine = make_engine(url, schema=schema)
    signer = NoteSigner(origin, Ed25519PrivateKey.from_private_bytes(log_key))
    provider = Ed25519PrivateKey.from_private_bytes(provider_key)
    indices = []
    with Log.open(SqlLogStore(engine), origin=origin, signer=signer) as log:
        bank = CreditBank(engine, log)
        committer = GroupCommitter(bank) if worker % 2 else None  # half group-commit, half direct
        for i in range(count):
            entry = Entry.create(
                type="certificate.issued",
                actor="prov-1",
                nonce=f"w{worker}-n{i:05d}",
                claimed_at=datetime.now(UTC),
                body={
                    "v": 1,
                    "certificate_id": f"C-w{worker}-{i}",
                    "learner_id": learner_id,
                    "qualification_code": "6-18-02-04",
                    "level": 4,
                    "issued_on": "2024-06-01",
                },
            )
            submission = Submission(sign_entry(entry, provider))
            receipt = committer.submit(submission) if committer else bank.submit(submission.signed)
            indices.append(receipt.index)
        if committer:
            committer.close()
    engine.dispose()
    return indices
