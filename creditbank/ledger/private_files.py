"""Files that hold secrets or personal data are private to the user who runs the service.

The SQLite database holds learners' (encrypted) identities and token hashes; key files hold private
keys. Both are created mode 0600, and the folders this code creates for them mode 0700, whatever
the process umask says. SQLite gives its ``-wal`` and ``-shm`` files the database file's mode, so
creating the database file 0600 *before* SQLite opens it covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["FILE_MODE", "FOLDER_MODE", "private_folder", "private_sqlite_file"]

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create ``path`` (and missing parents) mode 0700; an existing folder is left as it is."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered by the umask
    return path


def private_sqlite_file(url: str) -> Path | None:
    """For a file-backed SQLite URL: its folder (0700 if created) and its file, 0600.

    Returns the database path, or ``None`` for PostgreSQL and in-memory SQLite.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    path = Path(parsed.database)
    private_folder(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE)
    os.close(fd)
    for companion in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if companion.exists():
            os.chmod(companion, FILE_MODE)
    return path
