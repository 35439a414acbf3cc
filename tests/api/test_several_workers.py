"""Several uvicorn workers, one tree: ``uvicorn --workers 3`` over one SQLite file or PostgreSQL schema.

Real processes on 127.0.0.1 and many concurrent HTTP clients posting signed entries. Each worker
groups its concurrent requests into one transaction and one checkpoint (group commit); the workers
take turns at the database's writers' lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a row lock on
the log head). Afterwards: every request was acknowledged, the indices are contiguous, every entry
is in the log exactly once at the index its receipt names, every checkpoint is consistent with
every later one, both audits pass and the read models equal a rebuild.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.api.served import (
    Posted,
    Server,
    check_checkpoints_consistent,
    check_receipts,
    check_whole_ledger,
    post_certificates,
    prepare_ledger,
)

pytestmark = pytest.mark.slow

WORKERS = 3
CLIENTS = 24
PER_CLIENT = 25
TIME_LIMIT = 60.0


def test_three_workers_append_to_one_tree(
    engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    schema = request.getfixturevalue("pg_schema")[1] if engine.dialect.name != "sqlite" else None
    ledger = prepare_ledger(engine, tmp_path, pg_schema=schema)
    start = ledger.store.size()
    with Server(ledger, tmp_path / "server.log", workers=WORKERS) as server:
        server.wait_ready()
        deadline = time.monotonic() + TIME_LIMIT
        results: list[list[Posted]] = [[] for _ in range(CLIENTS)]
        threads = [
            threading.Thread(
                target=post_certificates,
                args=(ledger, server.url, f"c{n}"),
                kwargs={"count": PER_CLIENT, "deadline": deadline, "out": results[n]},
            )
            for n in range(CLIENTS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIME_LIMIT + 30)
        elapsed = time.monotonic() - started
        assert server.stop() == 0, server.output()

    posted = [p for per_client in results for p in per_client]
    assert len(posted) == CLIENTS * PER_CLIENT, "the clients ran out of time"
    refused = [(p.status, p.body) for p in posted if p.status != 201]
    assert not refused, refused[:3]
    indices = sorted(p.body["index"] for p in posted)
    # Contiguous, none lost or twice, but for the learner index entry each group appends (h5).
    size = ledger.store.size()
    index_entries = [
        row.index
        for row in ledger.store.leaves(start, size)
        if row.entry_type == "ledger.learner_index"
    ]
    assert sorted(indices + index_entries) == list(range(start, size))
    check_receipts(ledger, posted)
    # Requests were grouped: fewer checkpoints were signed than entries were appended.
    checkpoints = {p.body["tree_size"] for p in posted}
    assert len(checkpoints) < len(posted)
    stored = check_checkpoints_consistent(ledger)
    check_whole_ledger(ledger)
    print(
        f"{engine.dialect.name}: {len(posted)} entries from {CLIENTS} clients to {WORKERS} workers "
        f"in {elapsed:.1f} s; {len(checkpoints)} checkpoints in receipts, {stored} stored"
    )
