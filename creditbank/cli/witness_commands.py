"""``creditbank witness ...``: run a C2SP tlog-witness, and ask witnesses to cosign this log.

* ``witness new-key``: an Ed25519 witness key file and its ``cosignature/v1`` verifier key.
* ``witness serve``: the witness over HTTP (``POST /add-checkpoint``), state in a SQLite file.
* ``witness cosign``: submit this log's latest checkpoint to configured witnesses and store the
  cosigned checkpoint the API serves at ``/v1/log/checkpoint/cosigned``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

from creditbank.cli.common import new_app
from creditbank.config import Settings
from creditbank.errors import KeyFormatError
from creditbank.ledger import SqlLogStore
from creditbank.ledger.checkpoint import NoteVerifier
from creditbank.ledger.cosignature import Cosigner
from creditbank.ledger.cosigned_store import CosignedStore
from creditbank.ledger.database import make_engine
from creditbank.ledger.keys import generate_key, load_private_key, save_private_key
from creditbank.ledger.log import Log
from creditbank.witness.core import Witness
from creditbank.witness.state import WitnessState
from creditbank.witness.submit import cosign_latest, parse_witness

__all__ = ["witness_app"]

witness_app = new_app(help="Run a transparency-log witness; get this log cosigned.")


def _passphrase() -> bytes | None:
    value = os.environ.get("CREDITBANK_WITNESS_KEY_PASSPHRASE")
    return value.encode() if value else None


@witness_app.command("new-key")
def new_key(
    name: Annotated[str, typer.Option(help="Witness name, e.g. witness.example.org/w1.")],
    key_file: Annotated[Path, typer.Option(help="Where to write the private key.")],
    insecure: Annotated[bool, typer.Option("--insecure-dev-key")] = False,
) -> None:
    """Create a witness key (encrypted with CREDITBANK_WITNESS_KEY_PASSPHRASE)."""
    passphrase = _passphrase()
    if passphrase is None and not insecure:
        raise KeyFormatError("set CREDITBANK_WITNESS_KEY_PASSPHRASE (or --insecure-dev-key)")
    key = generate_key()
    save_private_key(key, key_file, passphrase=passphrase, insecure=passphrase is None)
    print(Cosigner(name, key).verifier.vkey)


@witness_app.command("serve")
def serve(
    name: Annotated[str, typer.Option(help="Witness name (as in its verifier key).")],
    key_file: Annotated[Path, typer.Option(help="The witness's private key file.")],
    log: Annotated[list[str], typer.Option(help="A log verifier key to witness (repeatable).")],
    state: Annotated[Path, typer.Option(help="SQLite file with the witness's state.")],
    host: str = "127.0.0.1",
    port: int = 8081,
) -> None:
    """Serve POST /add-checkpoint (C2SP tlog-witness) for the given logs."""
    import uvicorn

    from creditbank.witness.server import create_witness_app

    logs: dict[str, list[NoteVerifier]] = {}
    for vkey in log:
        verifier = NoteVerifier.from_vkey(vkey)
        logs.setdefault(verifier.name, []).append(verifier)
    cosigner = Cosigner(name, load_private_key(key_file, passphrase=_passphrase()))
    witness = Witness(cosigner, logs, WitnessState(state))
    Console(stderr=True).print(f"witness {cosigner.verifier.vkey} on http://{host}:{port}")
    uvicorn.run(create_witness_app(witness), host=host, port=port, log_level="warning")


@witness_app.command("cosign")
def cosign(
    witness: Annotated[
        list[str], typer.Option(help="URL=VKEY of a witness (repeatable).", metavar="URL=VKEY")
    ],
    database_url: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Submit the latest checkpoint to each witness; store and print the cosigned checkpoint."""
    settings = Settings()
    endpoints = [parse_witness(item) for item in witness]
    engine = make_engine(database_url or settings.database_url)
    try:
        log = Log(SqlLogStore(engine), origin=settings.origin)
        with httpx.Client(timeout=30) as http:
            note, outcomes = cosign_latest(log, endpoints, http, CosignedStore(engine))
    finally:
        engine.dispose()
    for outcome in outcomes:
        print(f"{outcome.witness}: {'OK' if outcome.ok else 'REFUSED'} {outcome.detail}")
    print(note, end="")
    if not all(o.ok for o in outcomes):
        raise typer.Exit(3)
