"""Crash safety: SIGKILL a writer at random moments; only whole batches ever reach the log.

The writer (``crash_writer.py``) appends batches of 2,000 signed entries to a SQLite file in a
loop. Each round starts it, lets it reach its first append, and kills it with SIGKILL, alternately
at a random moment inside that append (before it can have committed) and at a random moment after
it committed (while it signs or writes the next batch). After every kill the file is audited from
scratch: it must verify, and hold a whole number of batches. Files are reused across rounds, so a
writer also restarts on a file that a killed writer left behind.
"""

from __future__ import annotations

import math
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from creditbank.ledger.audit import audit_log
from creditbank.ledger.database import make_engine
from creditbank.ledger.sql import SqlLogStore

WRITER = Path(__file__).with_name("crash_writer.py")
ORIGIN = "crash.creditbank.example/log"
BATCH = 2000
FILES = 5
ROUNDS_PER_FILE = 3  # 15 kills; each file is reopened after a crash twice
LINE_TIMEOUT = 60.0  # seconds; generous for a loaded machine, only there to catch a hang


def start_writer(url: str, seed: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, str(WRITER), url, str(BATCH), seed],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_line(proc: subprocess.Popen[str], expected: str) -> None:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(LINE_TIMEOUT):
            proc.kill()
            pytest.fail(f"the writer did not say {expected!r} within {LINE_TIMEOUT} s")
    line = proc.stdout.readline()
    if line.strip() != expected:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"the writer said {line!r}, not {expected!r}: {err}")


@pytest.mark.slow
def test_sigkill_never_leaves_a_partial_batch(tmp_path: Path) -> None:
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    fastest_append = math.inf  # the shortest append seen so far, in seconds
    kills: list[tuple[str, int]] = []  # (when, batches gained)
    for file_number in range(FILES):
        url = f"sqlite:///{tmp_path / f'crash-{file_number}.db'}"
        seed = os.urandom(16).hex()
        previous = 0
        for round_number in range(ROUNDS_PER_FILE):
            inside = (file_number + round_number) % 2 == 1  # alternate, starting with "after"
            proc = start_writer(url, seed)
            try:
                wait_for_line(proc, "ready")
                wait_for_line(proc, "appending")
                started = time.monotonic()
                if not inside or fastest_append == math.inf:
                    when = "after a commit"
                    wait_for_line(proc, "committed")
                    fastest_append = min(fastest_append, time.monotonic() - started)
                    time.sleep(rng.uniform(0.0, 0.3))
                else:
                    when = "inside an append"
                    time.sleep(rng.uniform(0.0, 0.9 * fastest_append))
                assert proc.poll() is None, proc.communicate()[1]
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.communicate()
            engine = make_engine(url)
            try:
                report = audit_log(SqlLogStore(engine), origin=ORIGIN)
            finally:
                engine.dispose()
            assert report.tree_size % BATCH == 0, f"a partial batch: {report.tree_size} entries"
            kills.append((when, (report.tree_size - previous) // BATCH))
            previous = report.tree_size
    assert len(kills) == FILES * ROUNDS_PER_FILE
    # Kills after a commit kept that batch; kills inside the first append lost it whole.
    assert all(gained >= 1 for when, gained in kills if when == "after a commit"), kills
    assert any(gained == 0 for when, gained in kills if when == "inside an append"), kills
