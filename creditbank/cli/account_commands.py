"""Commands of the accounts domain: import a map as signed entries, rebuild, erase a learner."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from sqlmodel import Session

from creditbank.accounts.replay import rebuild
from creditbank.accounts.tables import ActorRow, MappingRow
from creditbank.accounts.wiring import BankConfig, open_bank, shipped_data_dir
from creditbank.client import CreditbankClient
from creditbank.client.mapping_import import import_mappings
from creditbank.config import Settings
from creditbank.errors import ConflictError, InputError, NotFoundError
from creditbank.ledger import SqlLogStore
from creditbank.ledger.canonical import canonical_bytes
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import Entry, sign_entry
from creditbank.ledger.keys import load_private_key
from creditbank.mapping import load_catalog

__all__ = ["register"]

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy database URL.")]


def bank_config(settings: Settings, db: str | None) -> BankConfig:
    passphrase = settings.log_key_passphrase
    return BankConfig(
        database_url=db or settings.database_url,
        log_key_file=settings.log_key_file,
        log_key_passphrase=passphrase.get_secret_value().encode() if passphrase else None,
        origin=settings.origin,
        data_dir=settings.data_dir or shipped_data_dir(),
    )


def register(app: typer.Typer) -> None:
    learner_app = typer.Typer(help="Learners' personal data.", no_args_is_help=True)
    app.add_typer(learner_app, name="learner")

    @app.command("rebuild")
    def rebuild_command(db: DbOption = None) -> None:
        """Replay the log into fresh read models (balances, certificates, conversions ...)."""
        settings = Settings()
        engine = make_engine(db or settings.database_url)
        store = SqlLogStore(engine)
        total = store.size()
        with Progress(transient=True) as bar:
            task = bar.add_task("replaying the log", total=total)
            count = rebuild(store, progress=lambda done: bar.update(task, completed=done))
        engine.dispose()
        Console().print(f"rebuilt the read models from {count} log entries")

    @learner_app.command("erase")
    def erase_command(learner_id: str, db: DbOption = None) -> None:
        """Delete a learner's name, ID number and salt. The log stays intact and verifiable."""
        with open_bank(bank_config(Settings(), db)) as bank:
            bank.erase_learner(learner_id)
        Console().print(
            f"erased the personal data of {learner_id}; their entries remain, unlinkable to them"
        )

    @app.command("import-map")
    def import_map_command(
        file: Annotated[Path, typer.Argument(help="Qualification map CSV.")],
        provider: Annotated[
            str,
            typer.Option(help="The training provider: its actor id (or, with --url, its name)."),
        ],
        key: Annotated[Path, typer.Option(help="The provider's private key file.")],
        programmes: Annotated[
            Path | None, typer.Option(help="Programmes CSV (default: the shipped one).")
        ] = None,
        db: DbOption = None,
        url: Annotated[
            str | None,
            typer.Option(
                "--url",
                envvar="CREDITBANK_URL",
                help="Post through this server's API (one atomic batch); no log key needed.",
            ),
        ] = None,
        token: Annotated[
            str | None,
            typer.Option("--token", envvar="CREDITBANK_TOKEN", help="The provider's token."),
        ] = None,
    ) -> None:
        """Register the provider's rows of a map as signed mapping.registered entries (atomic).

        With --url (and --token, --key) the entries are signed here and posted to the server in
        one batch: a provider needs only its own key. Without it, the database is written
        directly, which needs the server's log key (CREDITBANK_LOG_KEY_FILE, CREDITBANK_ORIGIN)."""
        settings = Settings()
        config = bank_config(settings, db)
        catalog = load_catalog(file, programmes or config.data_dir / "programmes.csv")
        passphrase = settings.key_passphrase
        private = load_private_key(
            key, passphrase=passphrase.get_secret_value().encode() if passphrase else None
        )
        console = Console()
        if url is not None:
            if not token:
                raise InputError(
                    "give the provider's bearer token with --token or CREDITBANK_TOKEN"
                )
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
                actor = session.get(ActorRow, provider)
                if actor is None or actor.role != "provider":
                    raise NotFoundError(f"{provider!r} is not a registered training provider")
                names = {actor.actor_id, actor.name}
                mine = [m for m in catalog.mappings if m.provider in names]
                if not mine:
                    raise InputError(
                        f"{file} has no mappings whose provider is {actor.actor_id} or {actor.name}"
                    )
                todo = []
                for mapping in mine:
                    row = session.get(MappingRow, (mapping.mapping_id, mapping.version))
                    if row is None:
                        todo.append(mapping)
                    elif canonical_bytes(json.loads(row.mapping_json)) != canonical_bytes(
                        mapping.to_json()
                    ):
                        raise ConflictError(
                            f"mapping {mapping.mapping_id} version {mapping.version} is already "
                            "registered with other terms; register a new version instead"
                        )
            if not todo:
                console.print(f"all {len(mine)} mappings of {provider} are already registered")
                return
            now = bank.clock()
            signed = []
            with Progress(transient=True) as bar:
                task = bar.add_task("signing mappings", total=len(todo))
                for mapping in todo:
                    entry = Entry.create(
                        type="mapping.registered",
                        actor=provider,
                        # Deterministic: re-importing the same version can never append twice.
                        nonce="map-"
                        + hashlib.sha256(
                            f"{mapping.mapping_id}\n{mapping.version}".encode()
                        ).hexdigest()[:32],
                        claimed_at=now,
                        body={"v": 1, "mapping": mapping.to_json()},
                    )
                    signed.append(sign_entry(entry, private))
                    bar.advance(task)
            receipts = bank.submit_many(signed)
        console.print(
            f"registered {len(receipts)} mappings of {provider} "
            f"(log entries {receipts[0].index}..{receipts[-1].index}, "
            f"tree size {receipts[-1].tree_size}); {len(mine) - len(todo)} were already registered"
        )
