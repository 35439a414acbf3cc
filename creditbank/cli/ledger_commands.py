"""Commands of the ledger: ``init``, ``verify`` and ``keys`` (show, rotate, new).

Each command reads :class:`~creditbank.config.Settings` (options override them), calls one function
of this module that takes explicit values, and prints. The functions (:func:`init_ledger`,
:func:`verify_ledger`, :func:`rotate_log_key`, :func:`new_actor_key`) are what other command
modules call to build on the ledger, e.g. an accounts-level ``verify`` that also checks actor keys.
Errors are domain errors; :func:`creditbank.cli.main` turns them into messages and exit codes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Engine

from creditbank.accounts.authority import AuthorityReport, audit_authority
from creditbank.accounts.bank import CreditBank
from creditbank.accounts.cascade import SYSTEM_ACTOR
from creditbank.accounts.migrate import current_revision, upgrade
from creditbank.accounts.wiring import load_programmes, shipped_data_dir
from creditbank.config import Settings
from creditbank.credentials.issuer import ensure_issuing_key
from creditbank.errors import ConflictError, KeyFormatError, NotFoundError
from creditbank.ledger import SqlLogStore, create_log_schema
from creditbank.ledger.audit import AuditReport, audit_log
from creditbank.ledger.checkpoint import NoteSigner, NoteVerifier
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import key_id_of, public_key_to_b64
from creditbank.ledger.keys import generate_key, load_private_key, save_private_key
from creditbank.ledger.log import Log

__all__ = [
    "ActorKey",
    "InitResult",
    "RotateResult",
    "init_ledger",
    "new_actor_key",
    "register",
    "require_key_protection",
    "rotate_log_key",
    "show_log_keys",
    "verify_ledger",
]

#: Below this many entries ``verify`` finishes before a progress bar would be any use.
PROGRESS_THRESHOLD = 20_000

INSECURE_WARNING = (
    "WARNING: the log key is stored UNENCRYPTED (--insecure-dev-key). Anyone who can read "
    "{path} can sign checkpoints as this log. Use this only for local development."
)


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def _secret(value: SecretStr | None) -> bytes | None:
    return value.get_secret_value().encode() if value is not None else None


# --- init -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InitResult:
    vkey: str
    created_key: bool
    registered: bool


def require_key_protection(key_file: Path, *, passphrase: bytes | None, insecure: bool) -> None:
    """Refuse to go on when a new log key would have to be written unencrypted unasked.

    ``init`` calls this before it touches the database, so a refusal leaves nothing behind.
    """
    if passphrase is None and not insecure and not key_file.exists():
        raise KeyFormatError(
            "set CREDITBANK_LOG_KEY_PASSPHRASE to encrypt the new log key "
            "(or pass --insecure-dev-key for an unencrypted development key)"
        )


def init_ledger(
    engine: Engine,
    *,
    key_file: Path,
    origin: str,
    passphrase: bytes | None,
    insecure: bool,
    now: datetime,
) -> InitResult:
    """Create the log's tables and triggers, and the log key if there is none; record its verifier.

    Idempotent: run again with the same key it changes nothing. It never overwrites a key file and
    refuses a key other than the one on record (that is what ``keys rotate`` is for).
    """
    require_key_protection(key_file, passphrase=passphrase, insecure=insecure)
    create_log_schema(engine)
    store = SqlLogStore(engine)
    on_record = store.log_keys()
    created = False
    if key_file.exists():
        key = load_private_key(key_file, passphrase=passphrase)
    else:
        if on_record:
            raise ConflictError(
                f"this database already has log key {on_record[-1]} but {key_file} does not "
                "exist; give the key file that belongs to this log"
            )
        key = generate_key()
        save_private_key(key, key_file, passphrase=passphrase, insecure=passphrase is None)
        created = True
    log = Log(store, origin=origin, signer=NoteSigner(origin, key))
    vkey = log.verifier.vkey
    if vkey in on_record:
        return InitResult(vkey, created_key=created, registered=False)
    if on_record:
        raise ConflictError(
            f"{key_file} holds {vkey}, but this log's current key is {on_record[-1]}; "
            "use `creditbank keys rotate` to change the log key"
        )
    log.register_key(now=now)
    return InitResult(vkey, created_key=created, registered=True)


# --- verify -----------------------------------------------------------------------------------


def verify_ledger(
    engine: Engine,
    *,
    origin: str,
    trusted: Sequence[str] = (),
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Audit the whole log (see :func:`~creditbank.ledger.audit.audit_log`); raise TamperError.

    ``trusted`` verifier keys come from outside the database (the operator's copy, a witness);
    without them the checkpoints are checked against the keys the database itself records, which
    proves internal consistency but not that the database is the log you think it is.
    """
    verifiers = [NoteVerifier.from_vkey(vkey) for vkey in trusted]
    return audit_log(
        SqlLogStore(engine),
        origin=origin,
        trusted=verifiers or None,
        workers=workers,
        progress=progress,
    )


def verify_authority(engine: Engine) -> AuthorityReport | None:
    """Replay who may sign what (accounts/authority.py) when this log is a credit bank's.

    The ledger is reusable: a log whose entry 0 is not the credit bank's genesis is audited for
    integrity only.
    """
    store = SqlLogStore(engine)
    first = list(store.leaves(0, 1))
    if not first or first[0].entry_type != "actor.registered" or first[0].actor != SYSTEM_ACTOR:
        return None
    return audit_authority(store)


def bootstrap_admin(
    engine: Engine,
    *,
    settings: Settings,
    key_file: Path,
    origin: str,
    admin_id: str,
    admin_key: Path,
    insecure: bool,
) -> str:
    """Genesis on an empty log: a new admin key file, the two genesis entries, an admin token."""
    log_key = load_private_key(key_file, passphrase=_secret(settings.log_key_passphrase))
    store = SqlLogStore(engine)
    if store.size() != 0:
        raise ConflictError("this log already has its genesis; register further admins by entry")
    passphrase = _secret(settings.key_passphrase)
    key = generate_key()
    save_private_key(key, admin_key, passphrase=passphrase, insecure=insecure)
    programmes = load_programmes(settings.data_dir or shipped_data_dir())
    bank = CreditBank(
        engine, Log(store, origin=origin, signer=NoteSigner(origin, log_key)), programmes
    )
    bank.bootstrap(
        admin_id=admin_id,
        admin_name="Administrator",
        admin_public_key=public_key_to_b64(key.public_key()),
    )
    return bank.issue_token(actor_id=admin_id, label="created by creditbank init")


# --- keys -------------------------------------------------------------------------------------


def show_log_keys(engine: Engine) -> list[str]:
    """Every log verifier key on record, oldest first; the last one signs new checkpoints."""
    keys = SqlLogStore(engine).log_keys()
    if not keys:
        raise NotFoundError("this log has no key on record; run `creditbank init`")
    return keys


@dataclass(frozen=True)
class RotateResult:
    old_vkey: str
    new_vkey: str
    retired_key_file: Path


def rotate_log_key(
    engine: Engine,
    *,
    key_file: Path,
    origin: str,
    passphrase: bytes | None,
    insecure: bool,
    now: datetime,
) -> RotateResult:
    """Replace the log key: the new key signs a checkpoint of the current tree; the old stays on
    record (so every checkpoint it signed still verifies) and its file is kept beside the new one.

    Order matters for a crash at any point: the new key is written to a fresh file first, then
    recorded and used, and only then do the files change names; no key file is ever overwritten.
    """
    if passphrase is None and not insecure:
        raise KeyFormatError(
            "set CREDITBANK_LOG_KEY_PASSPHRASE to encrypt the new log key "
            "(or pass --insecure-dev-key for an unencrypted development key)"
        )
    store = SqlLogStore(engine)
    old_key = load_private_key(key_file, passphrase=passphrase)
    old = NoteSigner(origin, old_key).verifier.vkey
    on_record = store.log_keys()
    if not on_record or on_record[-1] != old:
        raise ConflictError(f"{key_file} does not hold this log's current key; nothing rotated")
    retired = key_file.with_name(f"{key_file.name}.retired-{old.split('+')[1]}")
    staged = key_file.with_name(f"{key_file.name}.new")
    if retired.exists() or staged.exists():
        raise ConflictError(f"{retired} or {staged} already exists; move it away first")
    new_key = generate_key()
    save_private_key(new_key, staged, passphrase=passphrase, insecure=passphrase is None)
    log = Log(store, origin=origin, signer=NoteSigner(origin, new_key))
    log.register_key(now=now)
    os.replace(key_file, retired)
    os.replace(staged, key_file)
    return RotateResult(old, log.verifier.vkey, retired)


@dataclass(frozen=True)
class ActorKey:
    public_key: str
    key_id: str
    path: Path
    encrypted: bool


def new_actor_key(path: Path, *, passphrase: bytes | None, insecure: bool) -> ActorKey:
    """Generate an actor's Ed25519 key pair into ``path`` (mode 0600, never overwritten)."""
    key = generate_key()
    save_private_key(key, path, passphrase=passphrase, insecure=insecure)
    public = public_key_to_b64(key.public_key())
    return ActorKey(public, key_id_of(public), path, encrypted=passphrase is not None)


# --- the commands -----------------------------------------------------------------------------

DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: CREDITBANK_DATABASE_URL).")
]
OriginOption = Annotated[
    str | None, typer.Option("--origin", help="Log origin and key name (CREDITBANK_ORIGIN).")
]
KeyFileOption = Annotated[
    Path | None,
    typer.Option("--log-key-file", help="The log's private key (CREDITBANK_LOG_KEY_FILE)."),
]
InsecureOption = Annotated[
    bool,
    typer.Option(
        "--insecure-dev-key", help="Allow an UNENCRYPTED log key (local development only)."
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``init``, ``verify`` and the ``keys`` group to ``app``."""
    keys_app = typer.Typer(help="Log and actor keys.", no_args_is_help=True)
    app.add_typer(keys_app, name="keys")
    db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
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
                help="On an empty log: write a new admin key here and register that admin "
                "in the genesis entries (encrypted with CREDITBANK_KEY_PASSPHRASE).",
            ),
        ] = None,
        admin_id: Annotated[str, typer.Option(help="Actor id of the first admin.")] = "admin",
    ) -> None:
        """Create the database (migrations), the log key and, with --admin-key, the genesis."""
        settings = Settings()
        key_file = log_key_file or settings.log_key_file
        passphrase = _secret(settings.log_key_passphrase)
        err = Console(stderr=True)
        require_key_protection(key_file, passphrase=passphrase, insecure=insecure_dev_key)
        with _engine(db or settings.database_url) as engine:
            # The whole schema (log tables, triggers, read models) through the Alembic history.
            upgrade(engine)
            result = init_ledger(
                engine,
                key_file=key_file,
                origin=origin or settings.origin,
                passphrase=passphrase,
                insecure=insecure_dev_key,
                now=_now(),
            )
            if admin_key is not None:
                admin = bootstrap_admin(
                    engine,
                    settings=settings,
                    key_file=key_file,
                    origin=origin or settings.origin,
                    admin_id=admin_id,
                    admin_key=admin_key,
                    insecure=insecure_dev_key,
                )
        credential_key = settings.credential_key_file or key_file.with_name(
            "creditbank-credential.key"
        )
        if ensure_issuing_key(
            credential_key,
            passphrase=_secret(settings.credential_passphrase),
            insecure=insecure_dev_key,
        ):
            err.print(f"created credential-issuing key {credential_key} (mode 0600)")
        if result.created_key:
            if passphrase is None:
                err.print(INSECURE_WARNING.format(path=key_file), style="bold red", highlight=False)
            err.print(f"created log key {key_file} (mode 0600)", highlight=False)
        if not result.registered:
            err.print("the log was already initialised with this key", highlight=False)
        if admin_key is not None:
            err.print(
                f"genesis: registered admin {admin_id} with the key in {admin_key}; its API token "
                f"(shown once, stored hashed):\n{admin}",
                highlight=False,
            )
        typer.echo(result.vkey)

    @db_app.command("upgrade")
    def db_upgrade_command(db: DbOption = None) -> None:
        """Migrate the database to the current schema (Alembic); safe to run again."""
        settings = Settings()
        with _engine(db or settings.database_url) as engine:
            before = current_revision(engine)
            upgrade(engine)
            after = current_revision(engine)
        Console().print(f"database schema: {before or 'empty'} -> {after}", highlight=False)

    @app.command("verify")
    def verify_command(
        db: DbOption = None,
        log_key: Annotated[
            list[str] | None,
            typer.Option(
                "--log-key",
                help="A trusted log verifier key (repeatable). Default: the keys on record.",
            ),
        ] = None,
        origin: OriginOption = None,
        workers: Annotated[
            int, typer.Option("--workers", min=1, help="Processes checking signatures.")
        ] = max(1, os.cpu_count() or 1),
    ) -> None:
        """Re-derive every leaf hash and root from the stored entries; check every checkpoint."""
        settings = Settings()
        console = Console()
        with _engine(db or settings.database_url) as engine:
            size = SqlLogStore(engine).size()
            with _progress(size) as progress:
                report = verify_ledger(
                    engine,
                    origin=origin or settings.origin,
                    trusted=log_key or (),
                    workers=workers,
                    progress=progress,
                )
            authority = verify_authority(engine)
        console.print(
            f"OK: {report.tree_size} entries, root {report.root_hash.hex()}, "
            f"{report.checkpoints_checked} checkpoints and "
            f"{report.signatures_checked} entry signatures checked",
            highlight=False,
        )
        if authority is not None:
            console.print(
                f"OK: every entry was signed by a key its actor held at the time, in a role allowed "
                f"to sign it ({authority.actors} actors, {authority.keys} keys)",
                highlight=False,
            )
        if not log_key:
            console.print(
                "note: checkpoints were checked against the keys this database records; "
                "pass --log-key to check them against a key you trust",
                style="dim",
                highlight=False,
            )

    @keys_app.command("show")
    def keys_show_command(
        db: DbOption = None,
        all_keys: Annotated[
            bool, typer.Option("--all", help="Also the rotated-out keys, oldest first.")
        ] = False,
    ) -> None:
        """Print the log's verifier key (what third parties need to check checkpoints)."""
        settings = Settings()
        with _engine(db or settings.database_url) as engine:
            keys = show_log_keys(engine)
        for vkey in keys if all_keys else keys[-1:]:
            typer.echo(vkey)

    @keys_app.command("rotate")
    def keys_rotate_command(
        db: DbOption = None,
        log_key_file: KeyFileOption = None,
        origin: OriginOption = None,
        insecure_dev_key: InsecureOption = False,
    ) -> None:
        """Replace the log key; the old one stays on record so old checkpoints still verify."""
        settings = Settings()
        key_file = log_key_file or settings.log_key_file
        passphrase = _secret(settings.log_key_passphrase)
        with _engine(db or settings.database_url) as engine:
            result = rotate_log_key(
                engine,
                key_file=key_file,
                origin=origin or settings.origin,
                passphrase=passphrase,
                insecure=insecure_dev_key,
                now=_now(),
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

    @keys_app.command("new")
    def keys_new_command(
        path: Annotated[Path, typer.Argument(help="Where to write the private key (0600).")],
        passphrase_env: Annotated[
            str | None,
            typer.Option(
                "--passphrase-env",
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
            passphrase = _secret(Settings().key_passphrase)
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


@contextmanager
def _progress(size: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for long audits; nothing for short ones."""
    if size < PROGRESS_THRESHOLD:
        yield None
        return
    columns = (
        TextColumn("verifying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=size)
        yield lambda done: bar.update(task, completed=done)
