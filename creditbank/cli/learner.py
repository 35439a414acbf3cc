"""``creditbank balance | transcript | learner erase``: a learner's account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from creditbank.accounts.identity_vault import shred_identity
from creditbank.cli.common import DbOption, engine_for, new_app
from creditbank.cli.output import balance_tables, print_json
from creditbank.cli.remote import (
    DEFAULT_URL,
    DateOption,
    JsonOption,
    TokenOption,
    UrlOption,
    client,
    parse_day,
)
from creditbank.config import Settings

__all__ = ["app"]

app = new_app(help="A learner's account.")
learner_app = new_app(help="Learners' personal data.")
app.add_typer(learner_app, name="learner")


@app.command("balance")
def balance_command(
    learner: Annotated[str, typer.Argument(help="Learner id.")],
    as_of: DateOption = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A learner's certificates, banked credits and recognised credits (learner or registrar)."""
    with client(url, token) as api:
        balance = api.balance(learner, as_of=parse_day(as_of))
    if as_json:
        print_json(balance)
        return
    console = Console()
    for table in balance_tables(balance):
        console.print(table)


@app.command("transcript")
def transcript_command(
    learner: Annotated[str, typer.Argument(help="Learner id.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the bundle.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Download a learner's verifiable transcript (check it with `verify-transcript`)."""
    with client(url, token) as api:
        bundle = api.transcript(learner)
    output.write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n", "utf-8")
    typer.echo(f"wrote {len(bundle['entries'])} proven entries to {output}")


# --- provider -----------------------------------------------------------------------------


@learner_app.command("erase")
def erase_command(
    learner_id: Annotated[str, typer.Argument(metavar="LEARNER_ID", help="Learner id.")],
    db: DbOption = None,
) -> None:
    """Destroy a learner's personal data (its key and row). The log stays intact and verifiable.

    Needs only the database (--db or CREDITBANK_DATABASE_URL), not the log key: nothing is
    appended to the log."""
    with engine_for(db or Settings().database_url) as engine:
        shred_identity(engine, learner_id)
    Console().print(
        f"erased the personal data of {learner_id}; their entries remain, unlinkable to them"
    )
