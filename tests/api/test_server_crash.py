"""kill -9 the API server while clients post: nothing acknowledged is lost, nothing partial shows.

Each round starts ``uvicorn --factory creditbank.api.app:create_app_from_settings`` as a real
process on 127.0.0.1, first re-sends every entry whose answer the previous kill swallowed (the
client's retry), then lets several clients post signed certificates and SIGKILLs the server after a
random delay, so kills land between requests, inside a group commit and between a commit and its
answers. After every kill, read straight from the database:

* every entry a client got a receipt for is in the log, at its index, with its leaf hash, and the
  checkpoint the receipt carried is stored (nothing acknowledged is ever lost);
* the log audits clean, the head equals the latest checkpoint's size and the read models hold one
  certificate per ``certificate.issued`` entry (nothing partial is visible);
* an entry sent without an answer is either wholly in the log or not at all, and its retry after
  the restart is answered 200 with the original receipt or 201 with a new one, never appended
  twice.

At the end every checkpoint is consistent with every later one, both audits pass and the read
models equal a rebuild. Twenty kills on SQLite and twenty on PostgreSQL.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from creditbank.ledger.audit import audit_log
from tests.api.served import (
    ORIGIN,
    Posted,
    ServedLedger,
    Server,
    check_checkpoints_consistent,
    check_projections_follow_the_log,
    check_receipts,
    check_whole_ledger,
    logged_index,
    post_certificates,
    prepare_ledger,
    resend,
    settle,
)

pytestmark = pytest.mark.slow

KILLS = 20
CLIENTS = 6
PER_CLIENT = 400  # far more than a round lasts: the kill ends it
ROUND_LIMIT = 20.0


def test_killed_server_loses_nothing_it_acknowledged(
    engine: Engine, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    schema = request.getfixturevalue("pg_schema")[1] if engine.dialect.name != "sqlite" else None
    ledger = prepare_ledger(engine, tmp_path, pg_schema=schema)
    store = ledger.store
    rng = random.Random(20261125)
    acknowledged: list[Posted] = []
    in_doubt: list[tuple[Posted, int | None]] = []
    figures = dict.fromkeys(
        (
            "acknowledged",
            "in doubt, committed",
            "in doubt, not committed",
            "retries answered 200 (replayed)",
            "retries answered 201",
        ),
        0,
    )
    server = Server(ledger, tmp_path / "server.log")
    try:
        for round_no in range(KILLS):
            server.wait_ready()
            for posted, index in in_doubt:  # the clients retry what they got no answer for
                answer = resend(ledger, server.url, posted)
                if index is None:
                    assert answer.status_code == 201, answer.text
                else:
                    assert answer.status_code == 200, answer.text
                    assert answer.json()["replayed"] is True
                    assert answer.json()["index"] == index
                posted.status, posted.body = answer.status_code, answer.json()
                acknowledged.append(posted)
                figures[
                    "retries answered 200 (replayed)"
                    if index is not None
                    else "retries answered 201"
                ] += 1
            in_doubt = []
            posted_now = _post_until_killed(ledger, server, round_no, rng.uniform(0.05, 0.8))
            settle(ledger)  # the dead server's last transaction is over, one way or the other
            if round_no + 1 < KILLS:
                # Restart at once: it boots (writing nothing until asked) while we check.
                server = Server(ledger, tmp_path / "server.log")
            assert all(p.status in (None, 201) for p in posted_now), [
                (p.status, p.body) for p in posted_now if p.status not in (None, 201)
            ][:3]
            answered = [p for p in posted_now if p.acknowledged]
            acknowledged.extend(answered)
            figures["acknowledged"] += len(answered)
            for posted in posted_now:
                if posted.status is None:
                    index = logged_index(ledger.engine, posted.signed)
                    in_doubt.append((posted, index))
                    kind = "committed" if index is not None else "not committed"
                    figures[f"in doubt, {kind}"] += 1
            check_receipts(ledger, acknowledged)
            audit_log(store, origin=ORIGIN, trusted=[ledger.verifier])
            assert store.latest_checkpoint().tree_size == store.size()  # type: ignore[union-attr]
            check_projections_follow_the_log(ledger)
    finally:
        server.kill()

    assert figures["acknowledged"] > 0 and figures["in doubt, not committed"] > 0, figures
    checkpoints = check_checkpoints_consistent(ledger)
    check_whole_ledger(ledger)
    print(
        f"{engine.dialect.name}: {KILLS} kills, {store.size()} entries, {checkpoints} checkpoints, {figures}"
    )


def _post_until_killed(
    ledger: ServedLedger, server: Server, tag: int, delay: float
) -> list[Posted]:
    """Several clients post concurrently; the server is SIGKILLed ``delay`` seconds in."""
    results: list[list[Posted]] = [[] for _ in range(CLIENTS)]
    deadline = time.monotonic() + ROUND_LIMIT
    threads = [
        threading.Thread(
            target=post_certificates,
            args=(ledger, server.url, f"r{tag}c{n}"),
            kwargs={"count": PER_CLIENT, "deadline": deadline, "out": results[n]},
        )
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(delay)
    server.kill()
    for thread in threads:
        thread.join(ROUND_LIMIT + 10)
    return [posted for per_client in results for posted in per_client]
