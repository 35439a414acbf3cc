"""``creditbank init``, ``verify`` and ``keys``, driven through the real Typer app."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from typer.testing import CliRunner, Result

from creditbank.cli import EXIT_CODES, app
from creditbank.cli import log as log_area
from creditbank.errors import (
    ConflictError,
    KeyFormatError,
    NotFoundError,
    TamperError,
    VerificationError,
)
from creditbank.ledger.audit import audit_log
from creditbank.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier
from creditbank.ledger.database import make_engine
from creditbank.ledger.entry import key_id_of, public_key_to_b64
from creditbank.ledger.keys import load_private_key
from creditbank.ledger.log import Log
from creditbank.ledger.maintenance import verify_ledger
from creditbank.ledger.sql import SqlLogStore, create_log_schema

from .conftest import MakeEntries

ORIGIN = "cli.creditbank.example/log"
PASSPHRASE = "correct horse battery staple"
SETTINGS_VARIABLES = (
    "CREDITBANK_DATABASE_URL",
    "CREDITBANK_LOG_KEY_FILE",
    "CREDITBANK_LOG_KEY_PASSPHRASE",
    "CREDITBANK_ORIGIN",
    "CREDITBANK_KEY_PASSPHRASE",
)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "400")
    return CliRunner()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "log.key"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def invoke(runner: CliRunner, args: list[str], **env: str) -> Result:
    return runner.invoke(app, args, env=env or None)


def init(runner: CliRunner, db_url: str, key_file: Path, *extra: str, **env: str) -> Result:
    args = ["init", "--db", db_url, "--log-key-file", str(key_file), "--origin", ORIGIN, *extra]
    return invoke(runner, args, **env)


@pytest.fixture
def initialised(runner: CliRunner, db_url: str, key_file: Path) -> str:
    """A log created by ``creditbank init`` with an encrypted key; returns its verifier key."""
    result = init(runner, db_url, key_file, CREDITBANK_LOG_KEY_PASSPHRASE=PASSPHRASE)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def open_log(engine: Engine, key_file: Path) -> Log:
    key = load_private_key(key_file, passphrase=PASSPHRASE.encode())
    return Log(SqlLogStore(engine), origin=ORIGIN, signer=NoteSigner(ORIGIN, key))


# --- init --------------------------------------------------------------------------------------


def test_init_refuses_without_a_passphrase(
    runner: CliRunner, db_url: str, key_file: Path, tmp_path: Path
) -> None:
    result = init(runner, db_url, key_file)
    assert result.exit_code != 0
    assert isinstance(result.exception, KeyFormatError)
    assert "CREDITBANK_LOG_KEY_PASSPHRASE" in str(result.exception)
    assert not key_file.exists()
    assert not (tmp_path / "cli.db").exists()


def test_init_creates_schema_and_an_encrypted_key(
    initialised: str, key_file: Path, engine: Engine
) -> None:
    verifier = NoteVerifier.from_vkey(initialised)
    assert verifier.name == ORIGIN
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(KeyFormatError):
        load_private_key(key_file, passphrase=None)
    key = load_private_key(key_file, passphrase=PASSPHRASE.encode())
    assert NoteSigner(ORIGIN, key).verifier == verifier
    store = SqlLogStore(engine)
    assert store.log_keys() == [initialised]
    assert store.size() == 0
    latest = store.latest_checkpoint()
    assert latest is not None and latest.tree_size == 0
    Checkpoint.open(latest.note, [verifier], origin=ORIGIN)


def test_init_is_idempotent(
    runner: CliRunner, initialised: str, db_url: str, key_file: Path, engine: Engine
) -> None:
    pem = key_file.read_bytes()
    again = init(runner, db_url, key_file, CREDITBANK_LOG_KEY_PASSPHRASE=PASSPHRASE)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == initialised
    assert "already initialised" in again.stderr
    assert key_file.read_bytes() == pem
    assert len(list(SqlLogStore(engine).checkpoints())) == 1


def test_init_with_an_insecure_dev_key_warns(
    runner: CliRunner, db_url: str, key_file: Path
) -> None:
    result = init(runner, db_url, key_file, "--insecure-dev-key")
    assert result.exit_code == 0, result.output
    assert "UNENCRYPTED" in result.stderr
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    NoteVerifier.from_vkey(result.stdout.strip())


def test_init_refuses_another_key_for_an_existing_log(
    runner: CliRunner, initialised: str, db_url: str, tmp_path: Path, engine: Engine
) -> None:
    other = tmp_path / "other.key"
    result = init(runner, db_url, other, CREDITBANK_LOG_KEY_PASSPHRASE=PASSPHRASE)
    assert isinstance(result.exception, ConflictError)
    assert not other.exists()  # refused before making a key
    assert SqlLogStore(engine).log_keys() == [initialised]


def test_init_never_overwrites_a_key_file(runner: CliRunner, db_url: str, key_file: Path) -> None:
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(b"not a key")
    result = init(runner, db_url, key_file, CREDITBANK_LOG_KEY_PASSPHRASE=PASSPHRASE)
    assert isinstance(result.exception, KeyFormatError)
    assert key_file.read_bytes() == b"not a key"


def test_init_reads_settings_from_the_environment(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "CREDITBANK_DATABASE_URL": "sqlite:///./from-env.db",
        "CREDITBANK_LOG_KEY_FILE": "./env.key",
        "CREDITBANK_LOG_KEY_PASSPHRASE": PASSPHRASE,
        "CREDITBANK_ORIGIN": "env.example/log",
    }
    result = invoke(runner, ["init"], **env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("env.example/log+")
    assert (tmp_path / "from-env.db").exists() and (tmp_path / "env.key").exists()
    # An option overrides the environment.
    result = invoke(runner, ["keys", "show", "--db", "sqlite:///./from-env.db"], **env)
    assert result.stdout.startswith("env.example/log+")
    result = invoke(runner, ["keys", "show"], CREDITBANK_DATABASE_URL="sqlite:///./empty.db")
    assert result.exit_code != 0


# --- verify ------------------------------------------------------------------------------------


def test_verify_a_good_log(
    runner: CliRunner,
    initialised: str,
    db_url: str,
    key_file: Path,
    engine: Engine,
    make_entries: MakeEntries,
    now: datetime,
) -> None:
    log = open_log(engine, key_file)
    log.append(make_entries(20), now=now)
    log.append(make_entries(5), now=now)
    result = invoke(runner, ["verify", "--db", db_url, "--origin", ORIGIN])
    assert result.exit_code == 0, result.output
    assert f"OK: 25 entries, root {log.root().hex()}, 3 checkpoints" in result.stdout
    assert "25 entry signatures" in result.stdout
    assert "--log-key" in result.stdout  # the hint to check against a key from outside
    trusted = invoke(
        runner, ["verify", "--db", db_url, "--origin", ORIGIN, "--log-key", initialised]
    )
    assert trusted.exit_code == 0, trusted.output
    assert "pass --log-key" not in trusted.stdout


def test_verify_against_an_untrusted_key_fails(
    runner: CliRunner, initialised: str, db_url: str
) -> None:
    stranger = NoteSigner(ORIGIN, Ed25519PrivateKey.generate()).verifier.vkey
    result = invoke(runner, ["verify", "--db", db_url, "--origin", ORIGIN, "--log-key", stranger])
    assert isinstance(result.exception, TamperError)
    assert "no signature from a trusted key" in str(result.exception)
    # A trusted key of another log: its checkpoints are not this database's (tamper, exit 3).
    other = NoteSigner("other.example/log", Ed25519PrivateKey.generate()).verifier.vkey
    wrong_origin = invoke(runner, ["verify", "--db", db_url, "--log-key", other])
    assert isinstance(wrong_origin.exception, TamperError)


def test_verify_with_worker_processes_and_a_progress_bar(
    runner: CliRunner,
    initialised: str,
    db_url: str,
    key_file: Path,
    engine: Engine,
    make_entries: MakeEntries,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = open_log(engine, key_file)
    with Log.open(log.store, origin=ORIGIN, signer=log.signer) as pooled:
        pooled.append(make_entries(4500), now=now)
    monkeypatch.setattr(log_area, "PROGRESS_THRESHOLD", 1)
    result = invoke(runner, ["verify", "--db", db_url, "--origin", ORIGIN, "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert "OK: 4500 entries" in result.stdout
    seen: list[int] = []
    report = verify_ledger(
        engine, origin=ORIGIN, trusted=[initialised], workers=2, progress=seen.append
    )
    assert report.tree_size == 4500 and seen[-1] == 4500 and seen == sorted(seen)


def test_verify_a_missing_log(runner: CliRunner, db_url: str) -> None:
    result = invoke(runner, ["verify", "--db", db_url])
    assert result.exit_code != 0
    assert "creditbank init" in str(result.exception)


def test_verify_exits_with_the_verification_code_in_a_real_process(
    initialised: str,
    db_url: str,
    key_file: Path,
    engine: Engine,
    make_entries: MakeEntries,
    now: datetime,
) -> None:
    open_log(engine, key_file).append(make_entries(12), now=now)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER log_entries_no_update"))
        conn.execute(text("UPDATE log_entries SET nonce = 'nonce-forged' WHERE idx = 9"))
    command = Path(sys.executable).with_name("creditbank")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITBANK_")}
    done = subprocess.run(
        [str(command), "verify", "--db", db_url, "--origin", ORIGIN],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "400"},
        timeout=60,
    )
    assert done.returncode == dict(EXIT_CODES)[VerificationError] == 3
    assert "TamperError" in done.stderr
    assert "entry 9: stored actor/nonce/type columns disagree" in done.stderr


# --- keys --------------------------------------------------------------------------------------


def test_keys_show(runner: CliRunner, initialised: str, db_url: str) -> None:
    result = invoke(runner, ["keys", "show", "--db", db_url])
    assert result.exit_code == 0, result.output
    assert result.stdout == initialised + "\n"


def test_keys_show_without_a_log(runner: CliRunner, db_url: str, engine: Engine) -> None:
    create_log_schema(engine)
    result = invoke(runner, ["keys", "show", "--db", db_url])
    assert isinstance(result.exception, NotFoundError)


def test_keys_rotate(
    runner: CliRunner,
    initialised: str,
    db_url: str,
    key_file: Path,
    engine: Engine,
    make_entries: MakeEntries,
    now: datetime,
) -> None:
    open_log(engine, key_file).append(make_entries(6), now=now)
    old_pem = key_file.read_bytes()
    args = ["keys", "rotate", "--db", db_url, "--log-key-file", str(key_file), "--origin", ORIGIN]

    refused = invoke(runner, args)  # no passphrase
    assert isinstance(refused.exception, KeyFormatError)
    assert key_file.read_bytes() == old_pem

    result = invoke(runner, args, CREDITBANK_LOG_KEY_PASSPHRASE=PASSPHRASE)
    assert result.exit_code == 0, result.output
    new_vkey = result.stdout.strip()
    assert new_vkey != initialised
    retired = key_file.with_name(f"log.key.retired-{initialised.split('+')[1]}")
    assert retired.read_bytes() == old_pem
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    new_key = load_private_key(key_file, passphrase=PASSPHRASE.encode())
    assert NoteSigner(ORIGIN, new_key).verifier.vkey == new_vkey

    store = SqlLogStore(engine)
    assert store.log_keys() == [initialised, new_vkey]
    latest = store.latest_checkpoint()
    assert latest is not None and latest.tree_size == 6
    Checkpoint.open(latest.note, [NoteVerifier.from_vkey(new_vkey)], origin=ORIGIN)
    # The new key carries on; old checkpoints still verify with the old key on record.
    open_log(engine, key_file).append(make_entries(3), now=now)
    report = audit_log(store, origin=ORIGIN)
    assert (report.tree_size, report.checkpoints_checked) == (9, 4)
    with pytest.raises(TamperError):
        audit_log(store, origin=ORIGIN, trusted=[NoteVerifier.from_vkey(new_vkey)])
    shown = invoke(runner, ["keys", "show", "--db", db_url, "--all"])
    assert shown.stdout.split() == [initialised, new_vkey]
    assert invoke(runner, ["keys", "show", "--db", db_url]).stdout.strip() == new_vkey
    verified = invoke(
        runner,
        [
            "verify",
            "--db",
            db_url,
            "--origin",
            ORIGIN,
            "--log-key",
            initialised,
            "--log-key",
            new_vkey,
        ],
    )
    assert verified.exit_code == 0, verified.output

    # Rotating with a key file that is no longer current is refused.
    again = invoke(
        runner,
        [*args[:4], "--log-key-file", str(retired), "--origin", ORIGIN],
        CREDITBANK_LOG_KEY_PASSPHRASE=PASSPHRASE,
    )
    assert isinstance(again.exception, ConflictError)


def test_keys_new_encrypted_from_the_default_variable(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "actor.key"
    result = invoke(runner, ["keys", "new", str(path)], CREDITBANK_KEY_PASSPHRASE=PASSPHRASE)
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    key = load_private_key(path, passphrase=PASSPHRASE.encode())
    public = public_key_to_b64(key.public_key())
    assert lines == {"public_key": public, "key_id": key_id_of(public)}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    again = invoke(runner, ["keys", "new", str(path)], CREDITBANK_KEY_PASSPHRASE=PASSPHRASE)
    assert isinstance(again.exception, KeyFormatError)  # never overwritten
    assert load_private_key(path, passphrase=PASSPHRASE.encode()).public_key() == key.public_key()


def test_keys_new_with_a_named_variable(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "actor.key"
    args = ["keys", "new", str(path), "--passphrase-env", "MY_SECRET"]
    missing = invoke(runner, args)
    assert isinstance(missing.exception, KeyFormatError) and not path.exists()
    result = invoke(runner, args, MY_SECRET=PASSPHRASE)
    assert result.exit_code == 0, result.output
    load_private_key(path, passphrase=PASSPHRASE.encode())


def test_keys_new_needs_a_passphrase_or_insecure(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "actor.key"
    refused = invoke(runner, ["keys", "new", str(path)])
    assert isinstance(refused.exception, KeyFormatError)
    assert not path.exists()
    result = invoke(runner, ["keys", "new", str(path), "--insecure"])
    assert result.exit_code == 0, result.output
    assert "UNENCRYPTED" in result.stderr
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    load_private_key(path, passphrase=None)


def test_issue9_item13_verify_takes_the_origin_from_the_key_and_the_database(
    runner: CliRunner, initialised: str, db_url: str
) -> None:
    """``verify --log-key VKEY`` with no --origin (and a default origin that is another log's)
    verifies; an explicit --origin that disagrees is a usage error (exit 2), not tamper."""
    assert ORIGIN != "creditbank.example/log"  # the settings' default is another log's origin
    by_key = invoke(runner, ["verify", "--db", db_url, "--log-key", initialised])
    assert by_key.exit_code == 0, by_key.output
    by_database = invoke(runner, ["verify", "--db", db_url])
    assert by_database.exit_code == 0, by_database.output
    for extra in (["--log-key", initialised], []):
        clash = invoke(runner, ["verify", "--db", db_url, "--origin", "other.example/log", *extra])
        assert clash.exit_code == 2, clash.output
        assert "other.example/log" in clash.output and ORIGIN in clash.output
