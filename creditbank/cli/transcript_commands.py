"""``creditbank verify-transcript FILE``: check a learner's transcript offline (and online).

Offline, every signature, key authority, inclusion proof and the checkpoint are checked against
the log's verifier key (:func:`creditbank.accounts.transcript.verify_transcript`); with
``--online`` the server is also asked whether the transcript changed since
(:mod:`creditbank.cli.transcript_online`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from creditbank.accounts.transcript import verify_transcript
from creditbank.cli.common import (
    new_app,
)
from creditbank.cli.output import proven_tables
from creditbank.cli.transcript_online import (
    CHANGED_SINCE,
    check_online,
    parse_witnesses,
    report_completeness,
    report_currency,
)
from creditbank.errors import InputError
from creditbank.ledger.checkpoint import NoteVerifier

__all__ = ["app"]

app = new_app(help="Transcripts: check one offline.")


def _read_vkey(value: str) -> NoteVerifier:
    path = Path(value)
    if "+" not in value and path.exists():
        value = path.read_text("utf-8").strip()
    return NoteVerifier.from_vkey(value)


@app.command("verify-transcript")
def verify_transcript_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A transcript JSON bundle.")],
    log_key: Annotated[
        str,
        typer.Option(
            "--log-key",
            metavar="VKEY",
            help="The log's verifier key (name+hex8+base64), or a file with it.",
        ),
    ],
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness", metavar="VKEY", help="A witness verifier key to require (repeatable)."
        ),
    ] = None,
    threshold: Annotated[
        int | None,
        typer.Option(
            "--witness-threshold", min=1, metavar="N", help="Cosignatures needed (default all)."
        ),
    ] = None,
    online: Annotated[
        str | None,
        typer.Option(
            "--online", metavar="URL", help="Also ask this server whether it changed since."
        ),
    ] = None,
) -> None:
    """Check a transcript offline and print the credits it proves.

    Checks every signature, that each signing key belonged to its actor, every inclusion
    proof and the checkpoint's signature; exits non-zero if anything does not check out.
    """
    try:
        bundle = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {file} as JSON: {exc}") from exc
    trusted = [_read_vkey(log_key)]
    proven = verify_transcript(
        bundle, trusted, witnesses=parse_witnesses(witness or []), threshold=threshold
    )
    console = Console()
    console.print(
        f"transcript of {proven.learner_id}: {proven.entries} entries verified against a "
        f"signed checkpoint of tree size {proven.tree_size}",
        highlight=False,
    )
    for table in proven_tables(proven):
        console.print(table)
    if proven.reversed_conversions:
        console.print(
            "reversed conversions (not counted): " + ", ".join(proven.reversed_conversions),
            highlight=False,
        )
    for use in proven.recovered_signatures:
        console.print(
            f"flag: entry {use['index']} is signed by {use['actor']} under key {use['key_id']}, "
            f"which an admin recovered at entry {use['recovered_by']}",
            style="yellow",
            highlight=False,
        )
    report_completeness(console, proven)
    if online is not None:
        currency = check_online(online, bundle, proven, trusted)
        report_currency(console, currency)
        if currency.changed:
            raise typer.Exit(CHANGED_SINCE)
