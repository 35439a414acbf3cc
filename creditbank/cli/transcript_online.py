"""``verify-transcript --online URL`` and ``--witness``: the parts of the command that are new in
transcript v2 (kept apart from ``api_commands`` so that module stays about the API client).

Exit codes beyond the usual ones: :data:`CHANGED_SINCE` when the learner's history changed after
the transcript's tree size (the transcript was true then; it is not the whole story now).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from rich.console import Console

from creditbank.accounts.currency import Currency, check_currency
from creditbank.accounts.transcript import ProvenCredits
from creditbank.errors import CheckpointError, InputError, NotFoundError
from creditbank.ledger.checkpoint import NoteVerifier
from creditbank.ledger.cosignature import CosignerVerifier

__all__ = [
    "CHANGED_SINCE",
    "check_online",
    "parse_witnesses",
    "report_completeness",
    "report_currency",
]

#: ``verify-transcript --online`` exits with this when the history changed since the transcript.
CHANGED_SINCE = 10


def parse_witnesses(values: Sequence[str]) -> list[CosignerVerifier]:
    return [CosignerVerifier.from_vkey(v) for v in values]


def report_completeness(console: Console, proven: ProvenCredits) -> None:
    if proven.complete_as_of is None:
        console.print(
            "not proven complete: this bundle does not prove it holds every entry about the "
            "learner (a v1 transcript, or one without its completeness proof)",
            highlight=False,
        )
    else:
        console.print(
            f"complete: every entry about {proven.learner_id} among the first "
            f"{proven.complete_as_of} log entries is in this transcript, in order",
            highlight=False,
        )
    if proven.witnessed_by:
        console.print("cosigned by witnesses: " + ", ".join(proven.witnessed_by), highlight=False)


def _get(http: httpx.Client, path: str, **params: Any) -> Any:
    answer = http.get(path, params=params)
    if answer.status_code == 404:
        raise NotFoundError(f"{path}: {answer.text[:200]}")
    if answer.status_code != 200:
        raise CheckpointError(f"{path} answered {answer.status_code}: {answer.text[:200]}")
    return answer.json()


def check_online(
    url: str, bundle: dict[str, Any], proven: ProvenCredits, trusted: list[NoteVerifier]
) -> Currency:
    """Fetch today's view of the learner from ``url`` and check it against the transcript."""
    if proven.complete_as_of is None:
        raise InputError("--online needs a v2 transcript with its completeness proof")
    since = proven.index_value.count if proven.index_value else 0
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as http:
        now = _get(http, f"/v1/index/learners/{proven.learner_id}", since=since)
        proof = _get(
            http, "/v1/log/proof/consistency", first=proven.tree_size, second=now.get("tree_size")
        )
    return check_currency(bundle, proven.index_value, now, proof.get("hashes", []), trusted)


def report_currency(console: Console, currency: Currency) -> None:
    if not currency.changed:
        console.print(
            f"still current: no entry about {currency.learner_id} was added between tree size "
            f"{currency.then_size} and {currency.now_size}",
            highlight=False,
        )
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(currency.new_types.items()))
    console.print(
        f"CHANGED since the transcript: {currency.now_count - currency.then_count} new entries "
        f"about {currency.learner_id} between tree size {currency.then_size} and "
        f"{currency.now_size} ({kinds})",
        highlight=False,
    )
