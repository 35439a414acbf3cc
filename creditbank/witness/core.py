"""The witness's one operation, ``add-checkpoint`` (C2SP tlog-witness), without HTTP.

Order of checks, as the specification gives them: parse the request (400), know the origin (404),
a trusted log signature (403), old size not above the new size (400), old size equal to the size on
record (409, answering that size), equal sizes must have equal roots (409), the consistency proof
(422). Only then is the new state stored (atomically with the old-size check) and the checkpoint
cosigned with ``cosignature/v1``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from creditbank.errors import CreditbankError, ProofError, WitnessRefusal
from creditbank.ledger.checkpoint import Checkpoint, NoteVerifier, open_note
from creditbank.ledger.cosignature import Cosigner, split_note
from creditbank.ledger.merkle_verify import verify_consistency
from creditbank.witness.state import LogState, WitnessState

__all__ = ["AddCheckpoint", "Witness", "parse_add_checkpoint", "render_add_checkpoint"]

_MAX_PROOF = 63
_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str


def render_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> str:
    """The request body: ``old N``, proof lines, a blank line, the signed checkpoint."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return "\n".join(lines) + "\n\n" + note


def parse_add_checkpoint(body: str) -> AddCheckpoint:
    """Parse a request body; raise a 400 refusal for anything malformed."""
    if len(body) > _MAX_BODY:
        raise WitnessRefusal("request body is too large", status=400)
    head, sep, note = body.partition("\n\n")
    if not sep:
        raise WitnessRefusal("the request needs an empty line before the checkpoint", status=400)
    lines = head.split("\n")
    first = lines[0]
    number = first[4:]
    if not first.startswith("old ") or not number.isdigit() or str(int(number)) != number:
        raise WitnessRefusal("the first line must be 'old <size>' in plain decimal", status=400)
    if len(lines) - 1 > _MAX_PROOF:
        raise WitnessRefusal(f"at most {_MAX_PROOF} consistency proof lines", status=400)
    proof: list[bytes] = []
    for line in lines[1:]:
        try:
            hashed = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise WitnessRefusal(f"proof line {line!r} is not base64", status=400) from None
        if len(hashed) != 32:
            raise WitnessRefusal("each proof line is one 32-byte hash", status=400)
        proof.append(hashed)
    return AddCheckpoint(int(number), proof, note)


class Witness:
    """Keeps each known log honest to itself: never back, never a fork, always consistent."""

    def __init__(
        self,
        cosigner: Cosigner,
        logs: Mapping[str, Sequence[NoteVerifier]],
        state: WitnessState,
    ) -> None:
        self.cosigner = cosigner
        self.logs = {origin: list(keys) for origin, keys in logs.items()}
        self.state = state

    def add_checkpoint(self, body: str, *, now: int) -> str:
        """Check and cosign; return the response body (cosignature lines) or raise a refusal."""
        request = parse_add_checkpoint(body)
        try:
            text, _ = split_note(request.note)
            checkpoint = Checkpoint.from_text(text)
        except CreditbankError as exc:
            raise WitnessRefusal(f"not a signed checkpoint: {exc}", status=400) from None
        trusted = self.logs.get(checkpoint.origin)
        if trusted is None:
            raise WitnessRefusal(f"unknown log {checkpoint.origin!r}", status=404)
        try:
            open_note(request.note, trusted)
        except CreditbankError as exc:
            raise WitnessRefusal(f"no trusted log signature: {exc}", status=403) from None
        if request.old_size > checkpoint.size:
            raise WitnessRefusal(
                f"old size {request.old_size} is above the checkpoint size {checkpoint.size}",
                status=400,
            )

        suspicious: list[str] = []

        def decide(latest: LogState | None) -> None:
            self._check(request, checkpoint, latest, suspicious)

        new = LogState(checkpoint.origin, checkpoint.size, checkpoint.root_hash, request.note)
        try:
            self.state.compare_and_set(checkpoint.origin, decide, new, now)
        except WitnessRefusal:
            # Kept after the refused transaction: a log-signed request that contradicts what
            # was cosigned is proof of misbehaviour.
            for reason in suspicious:
                self.state.record_evidence(checkpoint.origin, reason, body, now)
            raise
        return self.cosigner.signature_line(text, now)

    def _check(
        self,
        request: AddCheckpoint,
        checkpoint: Checkpoint,
        latest: LogState | None,
        suspicious: list[str],
    ) -> None:
        size = latest.tree_size if latest else 0
        if request.old_size != size:
            raise WitnessRefusal(
                f"old size {request.old_size} is not the size on record ({size})",
                status=409,
                latest_size=size,
            )
        if (
            latest is not None
            and checkpoint.size == size
            and checkpoint.root_hash != latest.root_hash
        ):
            suspicious.append("fork: two roots for one size")
            raise WitnessRefusal(
                f"a different root for tree size {size} than the one cosigned: a fork",
                status=409,
                latest_size=size,
            )
        if latest is None:
            if request.proof:
                raise WitnessRefusal("a proof from size 0 must be empty", status=422)
            return
        try:
            verify_consistency(
                size, checkpoint.size, latest.root_hash, checkpoint.root_hash, request.proof
            )
        except ProofError as exc:
            suspicious.append(f"inconsistent: {exc}")
            raise WitnessRefusal(f"consistency proof does not verify: {exc}", status=422) from None
