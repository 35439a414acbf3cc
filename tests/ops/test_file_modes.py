"""Issue 9 item 10: the database, its WAL, key files and the folders made for them are private."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from typer.testing import CliRunner

from creditbank.cli import app
from creditbank.ledger.private_files import private_folder, private_sqlite_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_issue9_item10_init_leaves_database_keys_and_folders_private(tmp_path: Path) -> None:
    """``creditbank init`` under a permissive umask: database, WAL, keys 0600; new folders 0700."""
    data = tmp_path / "srv" / "creditbank"
    db = data / "creditbank.db"
    key = tmp_path / "secrets" / "log.key"
    admin = tmp_path / "admins" / "admin.key"
    old = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            app,
            [
                "init",
                "--db",
                f"sqlite:///{db}",
                "--log-key-file",
                str(key),
                "--origin",
                "modes.example/log",
                "--insecure-dev-key",
                "--admin-key",
                str(admin),
            ],
        )
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    assert mode(db) == 0o600
    for companion in (Path(f"{db}-wal"), Path(f"{db}-shm")):
        if companion.exists():
            assert mode(companion) == 0o600, companion
    assert mode(key) == 0o600 and mode(admin) == 0o600
    for folder in (data, data.parent, key.parent, admin.parent):
        assert mode(folder) == 0o700, folder


def test_issue9_item10_sqlite_companions_inherit_the_private_mode(tmp_path: Path) -> None:
    """SQLite creates -wal and -shm with the database file's mode: a writer proves it."""
    db = tmp_path / "new" / "x.db"
    assert private_sqlite_file(f"sqlite:///{db}") == db
    old = os.umask(0o022)
    try:
        conn = sqlite3.connect(db)
        conn.execute("pragma journal_mode=wal")
        conn.execute("create table t(x)")
        conn.execute("insert into t values (1)")
        conn.commit()
        assert mode(Path(f"{db}-wal")) == 0o600 and mode(Path(f"{db}-shm")) == 0o600
        conn.close()
    finally:
        os.umask(old)
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700
    existing = tmp_path  # a folder that already exists is not changed
    before = mode(existing)
    private_folder(existing)
    assert mode(existing) == before
    assert private_sqlite_file("postgresql://h/db") is None
