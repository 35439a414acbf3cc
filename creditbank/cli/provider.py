"""``creditbank certificate issue|revoke``, ``mapping retire`` and ``import-map``: a training
provider's work."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlmodel import Session

from creditbank.accounts.mapping_import import mapping_nonce, pending_mappings
from creditbank.accounts.wiring import open_bank
from creditbank.cli.common import DbOption, bank_config, new_app, secret
from creditbank.cli.output import print_receipt
from creditbank.cli.remote import (
    DEFAULT_URL,
    REASON_HELP,
    ActorOption,
    JsonOption,
    KeyOption,
    TokenOption,
    UrlOption,
    parse_day,
    writer,
)
from creditbank.client import CreditbankClient, new_nonce
from creditbank.client.mapping_import import import_mappings
from creditbank.config import Settings
from creditbank.errors import InputError
from creditbank.ledger.entry import Entry, sign_entry
from creditbank.ledger.keys import load_private_key
from creditbank.mapping import load_catalog

__all__ = ["app"]

app = new_app(help="Training providers: certificates and mappings.")
certificate_app = new_app(help="Provider: issue and revoke certificates.")
app.add_typer(certificate_app, name="certificate")


@certificate_app.command("issue")
def certificate_issue(
    learner: Annotated[str, typer.Option("--learner", help="Learner id.")],
    qualification: Annotated[
        str, typer.Option("--qualification", help="Occupation code, e.g. 6-18-02-04.")
    ],
    level: Annotated[int, typer.Option("--level", min=1, max=5, help="1 (highest) to 5.")],
    issued_on: Annotated[str, typer.Option("--issued-on", help="YYYY-MM-DD.")],
    certificate_id: Annotated[
        str | None, typer.Option("--id", help="Certificate id (default: a random one).")
    ] = None,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a vocational certificate to a learner (a signed certificate.issued entry)."""
    issued = parse_day(issued_on, "--issued-on")
    assert issued is not None
    certificate_id = certificate_id or "C-" + new_nonce()[2:]
    with writer(url, token, key, actor) as api:
        receipt = api.issue_certificate(
            learner_id=learner,
            qualification_code=qualification,
            level=level,
            issued_on=issued,
            certificate_id=certificate_id,
        )
    print_receipt(receipt, as_json, {"certificate_id": certificate_id})


@certificate_app.command("revoke")
def certificate_revoke(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id.")],
    reason: Annotated[str, typer.Option("--reason", help=REASON_HELP)],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a certificate you issued; conversions that used it are reversed with it."""
    with writer(url, token, key, actor) as api:
        receipt = api.revoke_certificate(certificate_id, reason)
    print_receipt(receipt, as_json)


# --- registrar ----------------------------------------------------------------------------


@app.command("import-map")
def import_map_command(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Qualification map CSV.")],
    provider: Annotated[str, typer.Option(metavar="ID", help="Actor id of the training provider.")],
    key: Annotated[Path, typer.Option(metavar="PATH", help="The provider's private key file.")],
    programmes: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Programmes CSV (default: the shipped one)."),
    ] = None,
    db: DbOption = None,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="CREDITBANK_URL",
            metavar="URL",
            help="Post through this server's API (one atomic batch); no log key needed.",
        ),
    ] = None,
    token: TokenOption = None,
) -> None:
    """Register the provider's rows of a map as signed mapping.registered entries (atomic).

    With --url (and --token, --key) the entries are signed here and posted to the server in one
    batch: a provider needs only its own key. Without it, the database is written directly, which
    needs the server's log key (CREDITBANK_LOG_KEY_FILE, CREDITBANK_ORIGIN).
    """
    settings = Settings()
    config = bank_config(settings, db)
    catalog = load_catalog(file, programmes or config.data_dir / "programmes.csv")
    private = load_private_key(key, passphrase=secret(settings.key_passphrase))
    console = Console()
    if url is not None:
        if not token:
            raise InputError("give the provider's bearer token with --token or CREDITBANK_TOKEN")
        with CreditbankClient.signing(url, token=token, private_key=private) as api:
            names = {provider, str(api.whoami().get("actor_id"))}
            done = import_mappings(api, catalog.mappings, names)
        console.print(
            f"registered {len(done.receipts)} mappings of {provider}; "
            f"{done.already_registered} were already registered"
        )
        return
    with open_bank(config) as bank:
        with Session(bank.engine) as session:
            pending = pending_mappings(session, catalog, provider, str(file))
        if not pending.todo:
            console.print(f"all {len(pending.mine)} mappings of {provider} are already registered")
            return
        now = bank.clock()
        signed = []
        with Progress(transient=True) as bar:
            task = bar.add_task("signing mappings", total=len(pending.todo))
            for mapping in pending.todo:
                entry = Entry.create(
                    type="mapping.registered",
                    actor=provider,
                    nonce=mapping_nonce(mapping),
                    claimed_at=now,
                    body={"v": 1, "mapping": mapping.to_json()},
                )
                signed.append(sign_entry(entry, private))
                bar.advance(task)
        receipts = bank.submit_many(signed)
    console.print(
        f"registered {len(receipts)} mappings of {provider} "
        f"(log entries {receipts[0].index}..{receipts[-1].index}, "
        f"tree size {receipts[-1].tree_size}); "
        f"{len(pending.mine) - len(pending.todo)} were already registered"
    )
