"""Group commit: many concurrent submissions, one transaction, one checkpoint.

Each append pays for a transaction commit (an fsync) and a checkpoint signature. Under load, the
requests waiting for the writers' lock are better served together: one writer thread takes whatever
has queued (up to ``max_batch``), appends it with :meth:`CreditBank.submit_group`, and hands each
caller its own receipt or its own error. Atomicity is unchanged: each submission is all-or-nothing
(a savepoint), and nothing is acknowledged before the transaction holding it has committed.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import Future

from creditbank.accounts.bank import CreditBank, Receipt, Submission
from creditbank.errors import StorageError

__all__ = ["GroupCommitter"]

_STOP = object()


class GroupCommitter:
    """Serialises submissions through one writer thread that commits them in groups."""

    def __init__(self, bank: CreditBank, *, max_batch: int = 256) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.bank = bank
        self.max_batch = max_batch
        self._queue: queue.Queue[object] = queue.Queue()
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, name="creditbank-group-commit", daemon=True
        )
        self._thread.start()
        #: Sizes of the most recent groups committed (for benchmarks and tests); bounded, so a
        #: long-running server does not accumulate them.
        self.group_sizes: deque[int] = deque(maxlen=100_000)

    def submit(self, submission: Submission, *, timeout: float = 60.0) -> Receipt:
        """Queue one submission and wait for its outcome: a receipt, or its own error."""
        return self.enqueue(submission).result(timeout=timeout)

    def enqueue(self, submission: Submission) -> Future[Receipt]:
        """Queue one submission; its future resolves to a receipt or to its own error.

        For callers that wait elsewhere (an event loop, ``asyncio.wrap_future``). Cancelling the
        future before its group is taken withdraws the submission; once taken, it runs to the end.
        """
        future: Future[Receipt] = Future()
        with self._lock:
            if self._closed:
                raise StorageError("the group committer is closed")
            self._queue.put((submission, future))
        return future

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            while len(group) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                group.append(item)
            self._commit(group)  # type: ignore[arg-type]

    def _commit(self, group: list[tuple[Submission, Future[Receipt]]]) -> None:
        # A future cancelled while queued (its caller gave up) is dropped; the rest cannot be
        # cancelled any more, so each caller surely gets its outcome.
        group = [(sub, future) for sub, future in group if future.set_running_or_notify_cancel()]
        if not group:
            return
        self.group_sizes.append(len(group))
        try:
            outcomes = self.bank.submit_group([submission for submission, _ in group])
        except BaseException as exc:  # the whole transaction failed: nobody's entry is in the log
            for _, future in group:
                future.set_exception(exc)
            return
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
