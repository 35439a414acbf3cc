"""``creditbank keys show|rotate|new``: the log's key and actors' keys.

The log key signs checkpoints; rotating it keeps the old verifier key on record so old
checkpoints still verify (:func:`creditbank.ledger.maintenance.rotate_log_key`). An actor's key
is generated here and only its public half ever leaves the machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from creditbank.cli.common import (
    DbOption,
    InsecureOption,
    KeyFileOption,
    OriginOption,
    engine_for,
    new_app,
    now,
    secret,
)
from creditbank.config import Settings
from creditbank.errors import KeyFormatError
from creditbank.ledger.maintenance import (
    new_actor_key,
    rotate_log_key,
    show_log_keys,
)

__all__ = ["INSECURE_WARNING", "app"]

INSECURE_WARNING = (
    "WARNING: the log key is stored UNENCRYPTED (--insecure-dev-key). Anyone who can read "
    "{path} can sign checkpoints as this log. Use this only for local development."
)

#: ``creditbank keys ...``: added to the log's area (``cli/log.py``) under the name ``keys``.
app = new_app(name="keys", help="Log and actor keys.")


@app.command("show")
def keys_show_command(
    db: DbOption = None,
    all_keys: Annotated[
        bool, typer.Option("--all", help="Also the rotated-out keys, oldest first.")
    ] = False,
) -> None:
    """Print the log's verifier key (what third parties need to check checkpoints)."""
    settings = Settings()
    with engine_for(db or settings.database_url) as engine:
        keys = show_log_keys(engine)
    for vkey in keys if all_keys else keys[-1:]:
        typer.echo(vkey)


@app.command("rotate")
def keys_rotate_command(
    db: DbOption = None,
    log_key_file: KeyFileOption = None,
    origin: OriginOption = None,
    insecure_dev_key: InsecureOption = False,
) -> None:
    """Replace the log key; the old one stays on record so old checkpoints still verify."""
    settings = Settings()
    key_file = log_key_file or settings.log_key_file
    passphrase = secret(settings.log_key_passphrase)
    with engine_for(db or settings.database_url) as engine:
        result = rotate_log_key(
            engine,
            key_file=key_file,
            origin=origin or settings.origin,
            passphrase=passphrase,
            insecure=insecure_dev_key,
            now=now(),
        )
    err = Console(stderr=True)
    if passphrase is None:
        err.print(INSECURE_WARNING.format(path=key_file), style="bold red", highlight=False)
    err.print(
        f"rotated: old key {result.old_vkey} kept on record; "
        f"its file moved to {result.retired_key_file}",
        highlight=False,
    )
    typer.echo(result.new_vkey)


@app.command("new")
def keys_new_command(
    path: Annotated[
        Path, typer.Argument(metavar="PATH", help="Where to write the private key (0600).")
    ],
    passphrase_env: Annotated[
        str | None,
        typer.Option(
            "--passphrase-env",
            metavar="NAME",
            help="Name of the environment variable holding the passphrase "
            "(default: CREDITBANK_KEY_PASSPHRASE).",
        ),
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Allow an UNENCRYPTED key file.")
    ] = False,
) -> None:
    """Generate an actor's Ed25519 key pair; print the public key and its key id."""
    if passphrase_env is not None:
        value = os.environ.get(passphrase_env)
        if not value:
            raise KeyFormatError(f"environment variable {passphrase_env} is not set")
        passphrase: bytes | None = value.encode()
    else:
        passphrase = secret(Settings().key_passphrase)
    if passphrase is None and not insecure:
        raise KeyFormatError(
            "set CREDITBANK_KEY_PASSPHRASE (or --passphrase-env NAME) to encrypt the key, "
            "or pass --insecure for an unencrypted development key"
        )
    key = new_actor_key(path, passphrase=passphrase, insecure=insecure)
    if not key.encrypted:
        Console(stderr=True).print(
            f"WARNING: {path} is UNENCRYPTED (--insecure)", style="bold red", highlight=False
        )
    typer.echo(f"public_key: {key.public_key}")
    typer.echo(f"key_id: {key.key_id}")
