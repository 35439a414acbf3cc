"""``creditbank init | verify | rebuild | db upgrade`` (and ``keys ...``): the log.

Each command reads :class:`~creditbank.config.Settings` (options override them), calls one
operation of the layer that owns it (:mod:`creditbank.ledger.maintenance`,
:mod:`creditbank.accounts.genesis`, :mod:`creditbank.accounts.replay`) and prints. Errors are
domain errors; :func:`creditbank.cli.main` turns them into messages and exit codes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from creditbank.accounts.genesis import Genesis, bootstrap_admin, verify_authority
from creditbank.accounts.migrate import current_revision, upgrade
from creditbank.accounts.readmodel_audit import audit_read_models
from creditbank.accounts.replay import rebuild
from creditbank.accounts.seeding import read_seed_programmes
from creditbank.accounts.wiring import shipped_data_dir
from creditbank.cli import log_keys
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
from creditbank.credentials.issuer import ensure_issuing_key
from creditbank.errors import InputError
from creditbank.ledger import SqlLogStore
from creditbank.ledger.checkpoint import NoteVerifier
from creditbank.ledger.maintenance import (
    init_ledger,
    log_origin,
    require_key_protection,
    verify_ledger,
)
from creditbank.ledger.private_files import private_folder, private_sqlite_file
from creditbank.mapping import Programme

__all__ = ["PROGRESS_THRESHOLD", "app", "resolve_origin"]

#: Below this many entries ``verify`` finishes before a progress bar would be any use.
PROGRESS_THRESHOLD = 20_000


app = new_app(help="The log: create, audit, replay, keys.")
db_app = new_app(help="Database schema (Alembic migrations).")
app.add_typer(log_keys.app, name="keys")
app.add_typer(db_app, name="db")


@app.command("init")
def init_command(
    db: DbOption = None,
    log_key_file: KeyFileOption = None,
    origin: OriginOption = None,
    insecure_dev_key: InsecureOption = False,
    admin_key: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="On an empty log: write a new admin key here and register that admin "
            "in the genesis entries (encrypted with CREDITBANK_KEY_PASSPHRASE).",
        ),
    ] = None,
    admin_id: Annotated[
        str, typer.Option(metavar="ID", help="Actor id of the first admin.")
    ] = "admin",
    seed: Annotated[
        bool,
        typer.Option(
            "--seed",
            help="With --admin-key: also register each institution of --programmes, a registrar "
            "of it (key beside the admin key, a token) and its programmes, as signed entries.",
        ),
    ] = False,
    programmes_file: Annotated[
        Path | None,
        typer.Option(
            "--programmes",
            metavar="FILE",
            help="The programmes CSV --seed registers (default: the shipped programmes.csv).",
        ),
    ] = None,
) -> None:
    """Create the database (migrations), the log key and, with --admin-key, the genesis."""
    # The whole file is checked before anything (database, key, genesis) is made.
    programmes = _seed_programmes(seed, programmes_file, admin_key)
    settings = Settings()
    key_file = log_key_file or settings.log_key_file
    passphrase = secret(settings.log_key_passphrase)
    err = Console(stderr=True, soft_wrap=True)  # paths and tokens are copied whole
    require_key_protection(key_file, passphrase=passphrase, insecure=insecure_dev_key)
    url = db or settings.database_url
    private_sqlite_file(url)  # 0600 (and a new folder 0700) before SQLite creates anything
    private_folder(key_file.parent)
    if admin_key is not None:
        private_folder(admin_key.parent)
    genesis: Genesis | None = None
    with engine_for(url) as engine:
        # The whole schema (log tables, triggers, read models) through the Alembic history.
        upgrade(engine)
        result = init_ledger(
            engine,
            key_file=key_file,
            origin=origin or settings.origin,
            passphrase=passphrase,
            insecure=insecure_dev_key,
            now=now(),
        )
        if admin_key is not None:
            genesis = bootstrap_admin(
                engine,
                log_key_file=key_file,
                log_key_passphrase=passphrase,
                origin=origin or settings.origin,
                admin_id=admin_id,
                admin_key=admin_key,
                admin_key_passphrase=secret(settings.key_passphrase),
                insecure=insecure_dev_key,
                seed=programmes,
            )
    if result.created_key:
        if passphrase is None:
            err.print(
                log_keys.INSECURE_WARNING.format(path=key_file), style="bold red", highlight=False
            )
        err.print(f"created log key {key_file} (mode 0600)", highlight=False)
    if not result.registered:
        err.print("the log was already initialised with this key", highlight=False)
    credential_key = settings.credential_key_file or key_file.with_name("creditbank-credential.key")
    if ensure_issuing_key(
        credential_key,
        passphrase=secret(settings.credential_passphrase),
        insecure=insecure_dev_key,
    ):
        err.print(f"created credential-issuing key {credential_key} (mode 0600)", highlight=False)
    if genesis is not None:
        err.print(
            f"genesis: registered admin {admin_id} with the key in {admin_key}; its API token "
            f"(shown once, stored hashed):\n{genesis.admin_token}",
            highlight=False,
        )
        _print_seeded(err, genesis)
    typer.echo(result.vkey)


def _seed_programmes(
    seed: bool, programmes_file: Path | None, admin_key: Path | None
) -> tuple[Programme, ...]:
    """The programmes ``--seed`` registers, read and checked whole; none without ``--seed``."""
    if (seed or programmes_file is not None) and admin_key is None:
        raise InputError(
            "--seed 须与 --admin-key 同用：目录只在空日志的创世时登记 / --seed needs "
            "--admin-key: the catalogue is registered at genesis, on an empty log"
        )
    if programmes_file is not None and not seed:
        raise InputError("--programmes 须与 --seed 同用 / --programmes needs --seed")
    if not seed:
        return ()
    return read_seed_programmes(programmes_file or shipped_data_dir() / "programmes.csv")


def _print_seeded(err: Console, genesis: Genesis) -> None:
    """Each seeded institution's registrar, its key file and token, on stderr like the admin's."""
    for seeded in genesis.seeded:
        err.print(
            f"seed: registered institution {seeded.code} (key {seeded.key_file}), registrar "
            f"{seeded.registrar_id} (key {seeded.registrar_key_file}) and its "
            f"{len(seeded.programmes)} programmes; the registrar's API token (shown once, "
            f"stored hashed):\n{seeded.token}",
            highlight=False,
        )
    if genesis.seeded:
        total = sum(len(s.programmes) for s in genesis.seeded)
        err.print(
            f"seed: {total} programmes registered (version 1) by "
            f"{len(genesis.seeded)} registrar(s)",
            highlight=False,
        )


@db_app.command("upgrade")
def db_upgrade_command(db: DbOption = None) -> None:
    """Migrate the database to the current schema (Alembic); safe to run again."""
    settings = Settings()
    with engine_for(db or settings.database_url) as engine:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    Console().print(f"database schema: {before or 'empty'} -> {after}", highlight=False)


def resolve_origin(explicit: str | None, trusted: list[str], recorded: str | None) -> str | None:
    """The origin to audit against: the trusted keys' name, else the database's, else --origin.

    A signed-note key is named after its log's origin, so a user who gives ``--log-key`` has
    already said which log they mean. An explicit ``--origin`` that disagrees with the key (or,
    without keys, with the database) is a usage mistake, not evidence of tampering: exit 2.
    """
    names = {NoteVerifier.from_vkey(vkey).name for vkey in trusted}
    if len(names) > 1:
        raise typer.BadParameter(
            f"the --log-key values name different logs: {', '.join(sorted(names))}",
            param_hint="--log-key",
        )
    implied = next(iter(names), None) or recorded
    if explicit is not None and implied is not None and explicit != implied:
        source = "--log-key" if names else "the database's log key"
        raise typer.BadParameter(
            f"{explicit!r} disagrees with {source}, which names the log {implied!r}; "
            "leave --origin out or give the matching one",
            param_hint="--origin",
        )
    return implied or explicit


@app.command("verify")
def verify_command(
    db: DbOption = None,
    log_key: Annotated[
        list[str] | None,
        typer.Option(
            "--log-key",
            metavar="VKEY",
            help="A trusted log verifier key (repeatable); its name is the log's origin. "
            "Default: the keys on record.",
        ),
    ] = None,
    origin: Annotated[
        str | None,
        typer.Option(
            "--origin",
            metavar="ORIGIN",
            help="Expected log origin (default: the name of --log-key, else the database's).",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, metavar="N", help="Processes checking signatures.")
    ] = max(1, os.cpu_count() or 1),
) -> None:
    """Re-derive every leaf hash and root from the stored entries; check every checkpoint."""
    settings = Settings()
    console = Console()
    with engine_for(db or settings.database_url) as engine:
        size = SqlLogStore(engine).size()
        chosen = resolve_origin(origin, log_key or [], log_origin(engine))
        with _progress(size) as progress:
            report = verify_ledger(
                engine,
                origin=chosen or settings.origin,
                trusted=log_key or (),
                workers=workers,
                progress=progress,
            )
        audited = report.tree_size  # leaves the audit just checked: the replays trust them
        authority = verify_authority(engine, audited=audited)
        # The read models must equal a fresh replay of the log (issue 11), and every
        # conversion.posted is re-checked in that same replay against the rules in force when
        # it was posted (issue 12).
        read_models = (
            audit_read_models(
                engine,
                SqlLogStore(engine),
                audited=audited,
                conversions=ZoneInfo(settings.timezone),
            )
            if authority is not None
            else None
        )
    console.print(
        f"OK: {report.tree_size} entries, root {report.root_hash.hex()}, "
        f"{report.checkpoints_checked} checkpoints and "
        f"{report.signatures_checked} entry signatures checked; every learner chain and "
        f"{report.index_entries_checked} learner index roots rebuilt",
        highlight=False,
    )
    if authority is not None:
        console.print(
            f"OK: every entry was signed by a key its actor held at the time, in a role allowed "
            f"to sign it ({authority.actors} actors, {authority.keys} keys)",
            highlight=False,
        )
        for use in authority.recovered:
            console.print(
                f"flag: entry {use.index} is signed by {use.actor} under key {use.key_id}, which "
                f"an admin recovered at entry {use.recovered_by} (not by {use.actor} itself)",
                style="yellow",
                highlight=False,
            )
    if read_models is not None:
        console.print(
            f"OK: {read_models.conversions} conversions re-checked from the log against the "
            "mappings, holdings and caps in force when each was posted",
            highlight=False,
        )
        console.print(
            f"OK: the read models equal a replay of the log ({read_models.tables} tables, "
            f"{read_models.rows} rows, {read_models.entries} entries)",
            highlight=False,
        )
    if not log_key:
        console.print(
            "note: checkpoints were checked against the keys this database records; "
            "pass --log-key to check them against a key you trust",
            style="dim",
            highlight=False,
        )


@app.command("rebuild")
def rebuild_command(db: DbOption = None) -> None:
    """Replay the log into fresh read models (balances, certificates, conversions ...)."""
    settings = Settings()
    with engine_for(db or settings.database_url) as engine:
        store = SqlLogStore(engine)
        total = store.size()
        with Progress(transient=True) as bar:
            task = bar.add_task("replaying the log", total=total)
            count = rebuild(store, progress=lambda done: bar.update(task, completed=done))
    Console().print(f"rebuilt the read models from {count} log entries")


@contextmanager
def _progress(size: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long audits; nothing for short ones."""
    if size < PROGRESS_THRESHOLD:
        yield None
        return
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=size)
        yield lambda done: bar.update(task, completed=done)
