"""The log's side of witnessing: submit each new checkpoint, keep and serve the cosigned one.

For every configured witness the log sends ``add-checkpoint`` with a consistency proof from the
size that witness last cosigned. It does not need to remember that size: it starts from the size
it last knew (0 at first) and, on a ``409`` answer, retries once from the size the witness names,
as the specification suggests. Every cosignature line is verified against the witness's key before
it is kept, so a cosigned checkpoint served by the log never carries a line a client would reject.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from creditbank.errors import CreditbankError, InputError, WitnessRefusal
from creditbank.ledger.cosignature import (
    CosignerVerifier,
    add_signature_lines,
    verify_cosignatures,
)
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.ledger.log import Log
from creditbank.witness.core import render_add_checkpoint

__all__ = [
    "CosignedStore",
    "WitnessEndpoint",
    "WitnessOutcome",
    "cosign_latest",
    "parse_witness",
    "request_cosignature",
]


@dataclass
class WitnessEndpoint:
    """A witness the log is configured with: its submission URL and its cosigner key."""

    url: str
    verifier: CosignerVerifier
    known_size: int = field(default=0)


def parse_witness(item: str) -> WitnessEndpoint:
    """``URL=VKEY``: a witness's submission URL and its ``cosignature/v1`` verifier key."""
    url, sep, vkey = item.partition("=")
    if not sep or not url.startswith(("http://", "https://")):
        raise InputError(f"witness {item!r}: give URL=VKEY (an http(s) URL, then its key)")
    return WitnessEndpoint(url, CosignerVerifier.from_vkey(vkey))


@dataclass(frozen=True)
class WitnessOutcome:
    witness: str
    ok: bool
    detail: str


def request_cosignature(
    http: httpx.Client,
    witness: WitnessEndpoint,
    note: str,
    size: int,
    proof_from: Callable[[int], list[bytes]],
) -> str:
    """Ask one witness to cosign ``note`` (a checkpoint of ``size``); return its verified line."""
    old = min(witness.known_size, size)
    for _attempt in range(2):
        body = render_add_checkpoint(old, proof_from(old) if old else [], note)
        answer = http.post(
            witness.url.rstrip("/") + "/add-checkpoint",
            content=body.encode(),
            headers={"content-type": "text/plain; charset=utf-8"},
        )
        if answer.status_code == 409 and answer.headers.get("content-type", "").startswith(
            "text/x.tlog.size"
        ):
            text = answer.text.strip()
            if not text.isdigit() or int(text) > size or int(text) == old:
                raise WitnessRefusal(
                    f"witness {witness.verifier.name} is at size {text}, ahead of or beside "
                    f"this log at {size}: a fork or a rollback",
                    status=409,
                    latest_size=int(text) if text.isdigit() else None,
                )
            old = int(text)
            continue
        if answer.status_code != 200:
            raise WitnessRefusal(
                f"witness {witness.verifier.name} refused: {answer.status_code} "
                f"{answer.text.strip()[:200]}",
                status=answer.status_code,
            )
        cosigned = add_signature_lines(note, answer.text.splitlines())
        verify_cosignatures(cosigned, [witness.verifier], threshold=1)
        witness.known_size = size
        return next(
            line for line in answer.text.splitlines() if line.split(" ")[1] == witness.verifier.name
        )
    raise WitnessRefusal(f"witness {witness.verifier.name} kept answering 409", status=409)


def cosign_latest(
    log: Log,
    witnesses: Sequence[WitnessEndpoint],
    http: httpx.Client,
    store: CosignedStore | None = None,
) -> tuple[str, list[WitnessOutcome]]:
    """Submit the log's latest checkpoint to every witness; return the cosigned note and outcomes.

    One witness's refusal or outage does not stop the others; it is reported in the outcomes.
    """
    latest = log.latest_checkpoint()
    note, size = latest.note, latest.tree_size
    lines: list[str] = []
    outcomes: list[WitnessOutcome] = []
    for witness in witnesses:
        try:
            line = request_cosignature(
                http, witness, note, size, lambda old: log.consistency_proof(old, size)
            )
        except (CreditbankError, httpx.HTTPError) as exc:
            outcomes.append(WitnessOutcome(witness.verifier.name, False, str(exc)))
            continue
        lines.append(line)
        outcomes.append(WitnessOutcome(witness.verifier.name, True, "cosigned"))
    cosigned = add_signature_lines(note, lines)
    if store is not None and lines:
        store.save(size, cosigned, len(lines))
    return cosigned, outcomes
