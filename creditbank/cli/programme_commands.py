"""``creditbank programme register``: a registrar signs and posts its institution's programmes.

The file is a programmes CSV (the format ``docs/qualification-map.md`` describes, the one the
repository ships); every programme in it, or only ``--code``, is posted as a signed
``programme.registered`` entry with the version and effective date given.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from creditbank.cli.common import new_app
from creditbank.cli.output import print_receipt
from creditbank.cli.remote import (
    DEFAULT_URL,
    ActorOption,
    JsonOption,
    KeyOption,
    TokenOption,
    UrlOption,
    writer,
)
from creditbank.errors import NotFoundError
from creditbank.mapping import load_programmes
from creditbank.mapping.programme_json import programme_to_json
from creditbank.mapping.values import parse_date

__all__ = ["programme_app"]

programme_app = new_app(help="Programmes: register one, or a new version of one (registrars).")


@programme_app.command("register")
def register_command(
    file: Annotated[Path, typer.Argument(help="A programmes CSV file.", exists=True)],
    version: Annotated[int, typer.Option("--version", min=1, help="The version number.")],
    effective_from: Annotated[
        str, typer.Option("--effective-from", help="The day it takes effect, YYYY-MM-DD.")
    ],
    code: Annotated[
        str | None, typer.Option("--code", help="Only this programme of the file.")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Sign and post programme.registered for each programme of FILE (or only --code)."""
    day: date = parse_date(effective_from, "--effective-from")
    chosen = [p for p in load_programmes(file) if code is None or p.code == code]
    if not chosen:
        raise NotFoundError(f"{file} has no programme {code}")
    with writer(url, token, key, actor) as api:
        for programme in chosen:
            receipt = api.register_programme(programme_to_json(programme), version, day)
            print_receipt(receipt, as_json)
