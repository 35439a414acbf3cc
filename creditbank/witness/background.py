"""Submitting each new checkpoint to the configured witnesses, in the background.

A server configured with witnesses (``CREDITBANK_WITNESSES``, see ``docs/transparency.md``) runs
one :class:`WitnessSubmitter` thread per process. It never touches the write path: appends commit
and answer exactly as without witnesses, and a witness that is slow, down or refusing only delays
its own cosignature. The thread polls the log's latest checkpoint (cheap: one indexed read), so it
also sees checkpoints written by other server processes, and for every witness that has not yet
cosigned that checkpoint it sends ``add-checkpoint`` with a consistency proof
(:func:`~creditbank.witness.submit.request_cosignature`, which retries from the size a ``409``
names). A failure backs that witness off exponentially, from ``retry_base`` up to ``retry_max``
seconds. Each verified cosignature is merged into the stored cosigned checkpoint of that size,
which ``GET /v1/log/checkpoint/cosigned`` serves and transcripts carry.

Several processes each running a submitter is harmless: a witness answers a checkpoint it already
cosigned (same size, same root) with its cosignature again, and one that is already further along
answers ``409``, after which the next round picks up the newer checkpoint.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from creditbank.errors import CreditbankError, NotFoundError
from creditbank.ledger.cosignature import add_signature_lines
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.ledger.log import Log
from creditbank.witness.submit import WitnessEndpoint, WitnessOutcome, request_cosignature

__all__ = ["WitnessSubmitter"]

_log = logging.getLogger("creditbank.witness")


@dataclass
class _Backoff:
    failures: int = 0
    retry_at: float = 0.0


@dataclass
class _Target:
    """The checkpoint being cosigned and the verified lines gathered for it so far."""

    size: int
    note: str
    lines: dict[str, str] = field(default_factory=dict)


class WitnessSubmitter:
    """One background thread submitting the latest checkpoint to every witness."""

    def __init__(
        self,
        log: Log,
        store: CosignedStore,
        witnesses: Sequence[WitnessEndpoint],
        *,
        poll_seconds: float = 1.0,
        retry_base: float = 1.0,
        retry_max: float = 300.0,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.store = store
        self.witnesses = list(witnesses)
        self.poll_seconds = poll_seconds
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.clock = clock
        self._http = httpx.Client(timeout=timeout)
        self._backoff = {w.verifier.name: _Backoff() for w in self.witnesses}
        self._target: _Target | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="creditbank-witness", daemon=True)

    def start(self) -> WitnessSubmitter:
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look for a new checkpoint now rather than at the next poll."""
        self._wake.set()

    def close(self) -> None:
        """Stop the thread (a request in flight finishes or times out first)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()
        self._http.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the thread must outlive any one bad round
                _log.exception("witness submission round failed; retrying at the next poll")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def run_once(self) -> list[WitnessOutcome]:
        """One round: submit the latest checkpoint to each witness that is due; store lines."""
        try:
            latest = self.log.latest_checkpoint()
        except NotFoundError:  # a log not initialised yet: nothing to witness
            return []
        target = self._target
        if target is None or target.size != latest.tree_size:
            target = self._target = _Target(latest.tree_size, latest.note)
        outcomes = []
        added = False
        for witness in self.witnesses:
            name = witness.verifier.name
            backoff = self._backoff[name]
            if name in target.lines or self.clock() < backoff.retry_at:
                continue
            outcome = self._submit(witness, target, backoff)
            outcomes.append(outcome)
            added = added or outcome.ok
        if added:
            lines = [target.lines[name] for name in sorted(target.lines)]
            self.store.save(target.size, add_signature_lines(target.note, lines), len(lines))
        return outcomes

    def _submit(
        self, witness: WitnessEndpoint, target: _Target, backoff: _Backoff
    ) -> WitnessOutcome:
        name = witness.verifier.name
        size = target.size
        try:
            line = request_cosignature(
                self._http,
                witness,
                target.note,
                size,
                lambda old: self.log.consistency_proof(old, size),
            )
        except (CreditbankError, httpx.HTTPError) as exc:
            backoff.failures += 1
            delay = min(self.retry_max, self.retry_base * 2 ** (backoff.failures - 1))
            backoff.retry_at = self.clock() + delay
            _log.warning(
                "witness %s did not cosign size %d (%s); retry in %.1fs", name, size, exc, delay
            )
            return WitnessOutcome(name, False, str(exc))
        backoff.failures, backoff.retry_at = 0, 0.0
        target.lines[name] = line
        return WitnessOutcome(name, True, f"cosigned size {size}")
