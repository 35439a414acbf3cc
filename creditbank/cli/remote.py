"""Options and the client shared by commands that talk to a running server.

They read the server URL, the bearer token, the actor's key file and actor id from options or
from ``CREDITBANK_URL``, ``CREDITBANK_TOKEN``, ``CREDITBANK_KEY_FILE`` and ``CREDITBANK_ACTOR``
(the key's passphrase from ``CREDITBANK_KEY_PASSPHRASE``). Entries are signed here, with the
actor's own key, and posted with :class:`creditbank.client.CreditbankClient`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from creditbank.accounts.kinds import REASON_CODES
from creditbank.cli.common import secret
from creditbank.client import CreditbankClient, EntrySigner
from creditbank.config import Settings
from creditbank.errors import InputError, KeyFormatError
from creditbank.ledger.keys import load_private_key

__all__ = [
    "DEFAULT_URL",
    "REASON_HELP",
    "ActorOption",
    "DateOption",
    "JsonOption",
    "KeyOption",
    "TokenOption",
    "UrlOption",
    "client",
    "parse_day",
    "writer",
]

#: Reasons on the log are codes (no free text can enter the immutable log).
REASON_HELP = "A reason code: " + ", ".join(REASON_CODES) + "."

DEFAULT_URL = "http://127.0.0.1:8000"

UrlOption = Annotated[
    str,
    typer.Option(
        "--url", envvar="CREDITBANK_URL", metavar="URL", help="Server URL (CREDITBANK_URL)."
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CREDITBANK_TOKEN",
        metavar="TOKEN",
        help="Bearer token (CREDITBANK_TOKEN).",
    ),
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        envvar="CREDITBANK_KEY_FILE",
        metavar="PATH",
        help="The actor's private key (CREDITBANK_KEY_FILE).",
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        envvar="CREDITBANK_ACTOR",
        metavar="ID",
        help="The actor id (CREDITBANK_ACTOR); default: the token's actor.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the server's JSON answer.")]
DateOption = Annotated[
    str | None,
    typer.Option("--as-of", metavar="YYYY-MM-DD", help="A date (default: today)."),
]


def parse_day(text: str | None, what: str = "--as-of") -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"{what} must be a date like 2026-03-01, got {text!r}") from exc


def client(
    url: str, token: str | None, key: Path | None = None, actor: str | None = None
) -> CreditbankClient:
    if not token:
        raise InputError("give a bearer token with --token or CREDITBANK_TOKEN")
    signer = None
    if key is not None:
        private = load_private_key(key, passphrase=secret(Settings().key_passphrase))
        if actor is None:
            with CreditbankClient(url, token=token) as probe:
                actor = probe.whoami().get("actor_id")
            if not actor:
                raise KeyFormatError("this token is not bound to an actor; pass --actor")
        signer = EntrySigner(actor, private)
    return CreditbankClient(url, token=token, signer=signer)


def writer(url: str, token: str | None, key: Path | None, actor: str | None) -> CreditbankClient:
    if key is None:
        raise InputError(
            "writes are signed: give the actor's key with --key or CREDITBANK_KEY_FILE"
        )
    return client(url, token, key, actor)
